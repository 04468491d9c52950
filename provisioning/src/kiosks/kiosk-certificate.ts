import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';
import { KioskId } from '@tusafishe/protocol';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';

const run = promisify(execFile);

/** Files the gateway reads from its `GATEWAY_TLS_DIR`. */
const KIOSK_TLS_FILES = { cert: 'kiosk.crt', key: 'kiosk.key', ca: 'ca.crt' } as const;
const CA_FILES = { cert: 'ca.crt', key: 'ca.key' } as const;
const KIOSK_CERT_DAYS = 825;
const CA_DAYS = 3650;

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new ProvisioningError('CERTIFICATE_FAILED', `openssl ${args[0]} failed: ${stderr.trim()}`);
  }
}

/** The fleet CA (EC P-256), made on first use; its key stays with the operator, never on a kiosk. */
async function ensureFleetCa(caDir: string): Promise<boolean> {
  const cert = join(caDir, CA_FILES.cert);
  const key = join(caDir, CA_FILES.key);
  if (existsSync(cert) && existsSync(key)) return false;
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await chmod(key, 0o600);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-sha256',
      '-days',
      String(CA_DAYS),
      '-subj',
      '/CN=Tusafishe fleet CA',
    ].concat(
      ['-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ['-out', cert],
    ),
  );
  return true;
}

/**
 * Issues a kiosk's TLS certificate (HTTPS for the technicians' UI, MQTT over TLS for the
 * dispensers) from the fleet CA, for the names and addresses the kiosk is reached by.
 */
async function issueKioskCertificate(caDir: string, outDir: string, kioskId: string, hosts: string[]): Promise<void> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const key = join(outDir, KIOSK_TLS_FILES.key);
  const work = await mkdtemp(join(tmpdir(), 'kiosk-cert-'));
  try {
    const csr = join(work, 'kiosk.csr');
    const extensions = join(work, 'kiosk.ext');
    const altNames = hosts.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
    await writeFile(
      extensions,
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames}\n`,
    );
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    await chmod(key, 0o600);
    await openssl(['req', '-new', '-key', key, '-subj', `/CN=${kioskId}`, '-out', csr]);
    await openssl(
      ['x509', '-req', '-in', csr, '-CA', join(caDir, CA_FILES.cert), '-CAkey', join(caDir, CA_FILES.key)].concat(
        ['-CAcreateserial', '-days', String(KIOSK_CERT_DAYS), '-sha256', '-extfile', extensions],
        ['-out', join(outDir, KIOSK_TLS_FILES.cert)],
      ),
    );
    await openssl(['x509', '-in', join(caDir, CA_FILES.cert), '-out', join(outDir, KIOSK_TLS_FILES.ca)]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const Host = z
  .string()
  .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host name or IP address')
  .refine((host) => isIP(host) !== 0 || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(host), 'a host name or IP address');

export const kioskCertificate = defineCommand({
  name: 'kiosk certificate',
  summary:
    "Issues a kiosk's TLS certificate from the fleet CA (made in --ca-dir on first use) for HTTPS and MQTT over TLS.",
  positionals: ['kiosk-id'],
  options: {
    host: {
      type: 'string',
      value: '<names>',
      description: 'comma-separated names and IP addresses the kiosk is reached by (its people and dispenser networks)',
    },
    'ca-dir': {
      type: 'string',
      value: '<dir>',
      description: 'the fleet CA (ca.crt, ca.key); keep it off the kiosks',
      env: 'FLEET_CA_DIR',
    },
    'out-dir': {
      type: 'string',
      value: '<dir>',
      description: "where to write the kiosk's kiosk.crt, kiosk.key, ca.crt",
    },
  },
  notes:
    'example: npm run provision -- kiosk certificate KIOSK-042 --host kiosk-042.local,10.42.0.1,10.43.0.1 --ca-dir ~/fleet-ca --out-dir ./data/tls\n' +
    "Copy the out-dir to the gateway's DATA_DIR/tls and set GATEWAY_TLS_DIR to it; dispensers and browsers trust ca.crt.",
  schema: z.object({
    'kiosk-id': KioskId,
    host: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((host) => host.trim())
          .filter(Boolean),
      )
      .pipe(z.array(Host).min(1, 'at least one host')),
    'ca-dir': z.string().min(1),
    'out-dir': z.string().min(1),
  }),
  async run(input, io) {
    const caDir = resolve(input['ca-dir']);
    const outDir = resolve(input['out-dir']);
    const created = await ensureFleetCa(caDir);
    await issueKioskCertificate(caDir, outDir, input['kiosk-id'], input.host);
    io.out(
      `${created ? `Fleet CA created in ${caDir} (keep ca.key there, off every kiosk).\n` : ''}` +
        `Certificate for kiosk ${input['kiosk-id']} (${input.host.join(', ')}) written to ${outDir}:\n` +
        `  ${KIOSK_TLS_FILES.cert}, ${KIOSK_TLS_FILES.key} (private), ${KIOSK_TLS_FILES.ca}\n\n` +
        `Set this balena device variable on the kiosk's gateway, with the files in that directory:\n` +
        `  GATEWAY_TLS_DIR=/data/tls\n`,
    );
  },
});
