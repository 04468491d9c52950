/* What the dispenser needs from ESP-IDF that Moddable has no JS module for. */
#include "xsmc.h"
#include "xsHost.h"
#include "esp_system.h"
#include "esp_random.h"
#include "esp_wifi.h"

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
