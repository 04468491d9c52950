import { FIRMWARE_RELEASE_PUBLIC_KEY } from '@tusafishe/protocol';
import { FIRMWARE_VERSION } from '../firmware-settings.js';
import type { FirmwareSlots } from '../hal.js';
import { otaAbort, otaBegin, otaFinish, otaWrite, verifyEd25519 } from 'tusafishe-native';

/** Plain HTTP on the kiosk WiFi: the SHA-256 the release key signed is what is trusted, not the gateway. */
const HTTP_URL = /^http:\/\/([^/:]+)(?::(\d+))?(\/.*)$/;

/**
 * ESP32 app slots: the image streams from the gateway into the inactive OTA partition,
 * hashed as it is written (native module); the boot partition switches only after the
 * size and SHA-256 match, so a bad image or a power cut leaves the running one booting.
 */
export const otaSlots: FirmwareSlots = {
  running: () => FIRMWARE_VERSION,
  verify: (text, signature) => verifyEd25519(FIRMWARE_RELEASE_PUBLIC_KEY, text, signature),
  install(image, done) {
    const url = HTTP_URL.exec(image.url);
    let failure: string | undefined;
    let received = 0;
    if (!url) return done('download failed: not a plain http URL');
    try {
      otaBegin(image.size);
    } catch {
      return done('download failed: no OTA slot');
    }
    const http = new device.network.http.io({ ...device.network.http, host: url[1]!, port: Number(url[2] ?? 80) });
    http.request({
      path: url[3]!,
      onHeaders(status) {
        if (status !== 200) failure = `download failed: HTTP ${status}`;
      },
      onReadable(count) {
        const chunk = this.read(count);
        received += chunk.byteLength;
        if (received > image.size) failure ??= 'image refused: too large';
        try {
          if (!failure) otaWrite(chunk);
        } catch {
          failure = 'flash write failed';
        }
      },
      onDone(error) {
        http.close();
        if (error) failure ??= 'download failed';
        if (received !== image.size) failure ??= `image refused: ${received} bytes, expected ${image.size}`;
        if (!failure && !otaFinish(image.sha256)) failure = 'image refused: SHA-256 mismatch';
        if (failure) otaAbort();
        done(failure);
      },
    });
  },
};
