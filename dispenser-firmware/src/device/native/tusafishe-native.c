/* What the dispenser needs from ESP-IDF that Moddable has no JS module for (and the OTA slot writer, hashing as it writes). */
#include "xsmc.h"
#include "xsHost.h"
#include "esp_system.h"
#include "esp_random.h"
#include "esp_wifi.h"
#include "esp_ota_ops.h"
#include "mbedtls/sha256.h"
#include "mbedtls/base64.h"
#include "sodium/crypto_sign_ed25519.h"
#include <stdio.h>
#include <string.h>

void xs_tusafishe_restart(xsMachine *the)
{
	esp_restart();
}

void xs_tusafishe_free_heap(xsMachine *the)
{
	xsmcSetInteger(xsResult, (int32_t)esp_get_free_heap_size());
}

void xs_tusafishe_rssi(xsMachine *the)
{
	wifi_ap_record_t ap;
	xsmcSetInteger(xsResult, (ESP_OK == esp_wifi_sta_get_ap_info(&ap)) ? ap.rssi : -127);
}

void xs_tusafishe_fill_random(xsMachine *the)
{
	esp_fill_random(xsmcToArrayBuffer(xsArg(0)), xsmcGetArrayBufferLength(xsArg(0)));
}

/* One update at a time: the inactive app partition and the running hash of what was written to it. */
static const esp_partition_t *ota_partition = NULL;
static esp_ota_handle_t ota_handle = 0;
static mbedtls_sha256_context ota_sha;

void xs_tusafishe_ota_abort(xsMachine *the)
{
	if (ota_partition) {
		esp_ota_abort(ota_handle);
		mbedtls_sha256_free(&ota_sha);
	}
	ota_partition = NULL;
}

void xs_tusafishe_ota_begin(xsMachine *the)
{
	xs_tusafishe_ota_abort(the);
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	if (!next || ESP_OK != esp_ota_begin(next, (size_t)xsmcToInteger(xsArg(0)), &ota_handle))
		xsUnknownError("no OTA partition");
	ota_partition = next;
	mbedtls_sha256_init(&ota_sha);
	mbedtls_sha256_starts(&ota_sha, 0);
}

void xs_tusafishe_ota_write(xsMachine *the)
{
	if (!ota_partition) xsUnknownError("no update in progress");
	void *data = xsmcToArrayBuffer(xsArg(0));
	size_t length = xsmcGetArrayBufferLength(xsArg(0));
	mbedtls_sha256_update(&ota_sha, data, length);
	if (ESP_OK != esp_ota_write(ota_handle, data, length)) xsUnknownError("OTA write failed");
}

/* The boot partition changes only here, after the hash matched and ESP-IDF validated the image. */
void xs_tusafishe_ota_finish(xsMachine *the)
{
	unsigned char digest[32];
	char hex[65];
	int i, ok;
	if (!ota_partition) xsUnknownError("no update in progress");
	mbedtls_sha256_finish(&ota_sha, digest);
	mbedtls_sha256_free(&ota_sha);
	for (i = 0; i < 32; i++) snprintf(hex + i * 2, 3, "%02x", digest[i]);
	ok = 0 == strcmp(hex, xsmcToString(xsArg(0)));
	if (ok) ok = ESP_OK == esp_ota_end(ota_handle) && ESP_OK == esp_ota_set_boot_partition(ota_partition);
	else esp_ota_abort(ota_handle);
	ota_partition = NULL;
	xsmcSetBoolean(xsResult, ok);
}

/*
 * Release signatures: mbedTLS has no Ed25519, so libsodium's verifier (ESP-IDF component
 * espressif/libsodium). Both key and signature arrive in base64; any decoding error is "not valid".
 */
void xs_tusafishe_verify_ed25519(xsMachine *the)
{
	unsigned char key[crypto_sign_ed25519_PUBLICKEYBYTES], signature[crypto_sign_ed25519_BYTES];
	size_t key_length = 0, signature_length = 0;
	const char *text;
	int ok;
	text = xsmcToString(xsArg(0));
	ok = 0 == mbedtls_base64_decode(key, sizeof(key), &key_length, (const unsigned char *)text, strlen(text));
	text = xsmcToString(xsArg(2));
	ok = ok && 0 == mbedtls_base64_decode(signature, sizeof(signature), &signature_length, (const unsigned char *)text, strlen(text));
	ok = ok && key_length == sizeof(key) && signature_length == sizeof(signature);
	text = xsmcToString(xsArg(1));
	ok = ok && 0 == crypto_sign_ed25519_verify_detached(signature, (const unsigned char *)text, strlen(text), key);
	xsmcSetBoolean(xsResult, ok);
}
