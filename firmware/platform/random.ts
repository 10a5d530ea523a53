// Random port: the hardware RNG (esp_fill_random on an ESP32 with the radio or the bootloader
// entropy source on). Key generation and nonces come only from here.

export interface Random {
  /** Fill `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}
