/*
 * bodycam/native: CRC-32 and the hardware RNG for the device Checksum and Random ports.
 *
 * CRC-32 is the zlib/PNG CRC (reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF),
 * table-driven from flash, continuing from a previous result like zlib's crc32(crc, buf, len).
 * Random bytes come from esp_fill_random: true random while Wi-Fi or Bluetooth is on, or
 * after bootloader_random_enable(); key generation runs with Wi-Fi up (see README, armoury).
 * The SD functions reach the card's 512-byte sectors through ESP-IDF's SD-over-SPI driver
 * (sdspi_host + sdmmc_cmd), for the evidence partition (firmware/device/sd-flash.ts). A write
 * returns when the card has taken it. cameraQuality asks the sensor Moddable's camera module opened
 * (esp32-camera, the same driver) for a JPEG quality: the module takes one only at build time
 * (MODDEF_CAMERA_JPEG_QUALITY), the signed configuration chooses it per camera. Not compiled on the host: `npm run build:moddable` stops
 * where ESP-IDF takes over; the first device build compiles it.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "esp_random.h"
#include "driver/sdspi_host.h"
#include "driver/spi_common.h"
#include "sdmmc_cmd.h"
#include "esp_camera.h"

static const uint32_t gCRC32Table[256] = {
#define C(n) (((n) & 1) ? (0xEDB88320UL ^ ((n) >> 1)) : ((n) >> 1))
#define C8(n) C(C(C(C(C(C(C(C((uint32_t)(n)))))))))
#define R4(n) C8(n), C8((n) + 1), C8((n) + 2), C8((n) + 3)
#define R16(n) R4(n), R4((n) + 4), R4((n) + 8), R4((n) + 12)
#define R64(n) R16(n), R16((n) + 16), R16((n) + 32), R16((n) + 48)
	R64(0), R64(64), R64(128), R64(192)
};

uint32_t bodycam_crc32(uint32_t previous, const uint8_t *bytes, uint32_t length)
{
	uint32_t crc = previous ^ 0xFFFFFFFFUL;
	while (length--)
		crc = gCRC32Table[(crc ^ *bytes++) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFUL;
}

void xs_bodycam_crc32(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	uint32_t previous = 0;

	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((xsmcArgc > 1) && xsmcTest(xsArg(1)))
		previous = (uint32_t)xsmcToNumber(xsArg(1));
	xsmcSetUnsigned(xsResult, bodycam_crc32(previous, data, length));
}

void xs_bodycam_fill_random(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;

	xsmcGetBufferWritable(xsArg(0), &data, &length);
	esp_fill_random(data, length);
}

static sdmmc_card_t gSdCard;
static sdmmc_host_t gSdHost;
static sdspi_dev_handle_t gSdDevice;
static uint8_t gSdOpen = 0;

void xs_bodycam_sd_open(xsMachine *the)
{
	if (!gSdOpen) {
		esp_err_t err;
		sdmmc_host_t host = SDSPI_HOST_DEFAULT();
		sdspi_device_config_t device = SDSPI_DEVICE_CONFIG_DEFAULT();
		spi_bus_config_t bus = {
			.mosi_io_num = xsmcToInteger(xsArg(3)),
			.miso_io_num = xsmcToInteger(xsArg(2)),
			.sclk_io_num = xsmcToInteger(xsArg(1)),
			.quadwp_io_num = -1,
			.quadhd_io_num = -1,
			.max_transfer_sz = 4096 + 8,
		};
		err = spi_bus_initialize((spi_host_device_t)host.slot, &bus, SDSPI_DEFAULT_DMA);
		if ((ESP_OK != err) && (ESP_ERR_INVALID_STATE != err))
			xsUnknownError("SD: SPI bus");
		err = sdspi_host_init();
		if ((ESP_OK != err) && (ESP_ERR_INVALID_STATE != err))
			xsUnknownError("SD: host");
		device.gpio_cs = xsmcToInteger(xsArg(0));
		device.host_id = (spi_host_device_t)host.slot;
		if (ESP_OK != sdspi_host_init_device(&device, &gSdDevice))
			xsUnknownError("SD: device");
		host.slot = gSdDevice;
		gSdHost = host;
		if (ESP_OK != sdmmc_card_init(&gSdHost, &gSdCard)) {
			sdspi_host_remove_device(gSdDevice);
			xsUnknownError("SD: no card");
		}
		gSdOpen = 1;
	}
	xsmcSetNumber(xsResult, (double)gSdCard.csd.capacity * (double)(gSdCard.csd.sector_size / 512));
}

void xs_bodycam_sd_read(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	uint32_t sector = (uint32_t)xsmcToNumber(xsArg(1));

	xsmcGetBufferWritable(xsArg(0), &data, &length);
	if (!gSdOpen || (length % 512))
		xsRangeError("SD: whole sectors of an open card");
	if (length && (ESP_OK != sdmmc_read_sectors(&gSdCard, data, sector, length / 512)))
		xsUnknownError("SD: read failed");
}

void xs_bodycam_sd_write(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	uint32_t sector = (uint32_t)xsmcToNumber(xsArg(1));

	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (!gSdOpen || (length % 512))
		xsRangeError("SD: whole sectors of an open card");
	if (length && (ESP_OK != sdmmc_write_sectors(&gSdCard, data, sector, length / 512)))
		xsUnknownError("SD: write failed");
}

void xs_bodycam_sd_close(xsMachine *the)
{
	if (!gSdOpen)
		return;
	sdspi_host_remove_device(gSdDevice);
	spi_bus_free(SDSPI_DEFAULT_HOST);
	gSdOpen = 0;
}

void xs_bodycam_camera_quality(xsMachine *the)
{
	int quality = xsmcToInteger(xsArg(0));
	sensor_t *sensor = esp_camera_sensor_get();

	if ((quality < 4) || (quality > 63))
		xsRangeError("camera: JPEG quality is 4..63");
	if (!sensor || !sensor->set_quality)
		xsUnknownError("camera: no open sensor takes a JPEG quality");
	if (0 != sensor->set_quality(sensor, quality))
		xsUnknownError("camera: the sensor refused the JPEG quality");
}
