export function restart() @ "xs_tusafishe_restart";
export function freeHeap() @ "xs_tusafishe_free_heap";
export function rssi() @ "xs_tusafishe_rssi";
export function fillRandom(buffer) @ "xs_tusafishe_fill_random";
