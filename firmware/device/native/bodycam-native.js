// bodycam/native: the two device services Moddable lacks, in C (bodycam-native.c).
// crc32(buffer, previous) — CRC-32 (zlib/PNG polynomial), continuing from `previous`.
// fillRandom(bytes) — fills a Uint8Array from the ESP32 hardware RNG (esp_fill_random).
// sdOpen(cs, sck, miso, mosi) — starts the SD card on SPI (ESP-IDF sdspi); returns its sectors.
// sdRead(bytes, sector), sdWrite(bytes, sector) — whole 512-byte sectors; sdClose().
// cameraQuality(quality) — the open camera sensor's JPEG quality (esp32-camera's set_quality).

function crc32(buffer, previous) @ "xs_bodycam_crc32";
function fillRandom(bytes) @ "xs_bodycam_fill_random";
function sdOpen(cs, sck, miso, mosi) @ "xs_bodycam_sd_open";
function sdRead(bytes, sector) @ "xs_bodycam_sd_read";
function sdWrite(bytes, sector) @ "xs_bodycam_sd_write";
function sdClose() @ "xs_bodycam_sd_close";
function cameraQuality(quality) @ "xs_bodycam_camera_quality";

export default Object.freeze({ crc32, fillRandom, sdOpen, sdRead, sdWrite, sdClose, cameraQuality });
