// bodycam/native: the two device services Moddable lacks, in C (bodycam-native.c).
// crc32(buffer, previous) — CRC-32 (zlib/PNG polynomial), continuing from `previous`.
// fillRandom(bytes) — fills a Uint8Array from the ESP32 hardware RNG (esp_fill_random).

function crc32(buffer, previous) @ "xs_bodycam_crc32";
function fillRandom(bytes) @ "xs_bodycam_fill_random";

export default Object.freeze({ crc32, fillRandom });
