export function restart() @ "xs_tusafishe_restart";
export function freeHeap() @ "xs_tusafishe_free_heap";
export function rssi() @ "xs_tusafishe_rssi";
export function fillRandom(buffer) @ "xs_tusafishe_fill_random";
export function otaBegin(size) @ "xs_tusafishe_ota_begin";
export function otaWrite(chunk) @ "xs_tusafishe_ota_write";
export function otaFinish(sha256Hex) @ "xs_tusafishe_ota_finish";
export function otaAbort() @ "xs_tusafishe_ota_abort";
export function verifyEd25519(publicKey, message, signature) @ "xs_tusafishe_verify_ed25519";
