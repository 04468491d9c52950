/**
 * How the gateway's Node process runs on a kiosk: `gateway/Dockerfile.template` starts it with
 * exactly these flags and this environment (`runtime.test.ts` checks), and the benches that
 * measure its memory (`bench/sync.ts`, `bench/authorise.ts`) start it the same way. Measured with
 * a replica being pulled (bench/RESULTS.md § sync at 1,000,000 customers, "RSS"): what the gateway
 * kept resident was not the replica but what pulling it left behind.
 */

/**
 * `--max-semi-space-size=2`: a 2 MB young generation instead of 16 MB (~30 MB of RSS under load,
 * no measurable throughput; § authorise). `--heap-growing-percent=50`: after a major collection V8
 * lets the old generation grow to 1.5× what survived (it chooses up to 4× while allocation is
 * fast), so a pull's garbage (parsed pages) is collected before it holds ~85–115 MB resident.
 * `--optimize-for-size` kept the heap smaller still but cost 44 % more CPU per replica, this 12 %.
 * (V8 flags other than the heap sizes are refused in NODE_OPTIONS: on the command line.)
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=50'] as const;

/**
 * glibc's allocator (SQLite's page cache and sorter, the HTTP client's buffers, V8's own tables):
 * at most two arenas instead of eight per core (each thread that allocated keeps its own arena's
 * freed memory), and fixed mmap/trim thresholds (128 KB, glibc's initial ones) instead of dynamic
 * ones: after the first large buffer is freed glibc would serve the next ones (a pulled page's
 * body, a sort) from the heap, where they stay resident behind small live allocations.
 * ~35 MB less RSS after a replica of 100,000 customers.
 */
export const GATEWAY_MALLOC_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;
