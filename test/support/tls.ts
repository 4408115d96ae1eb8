/** A throwaway self-signed certificate for 127.0.0.1 (and any extra host names), made with openssl at test time. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

export function makeCertificate(dnsNames: string[] = []): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      `subjectAltName=${['IP:127.0.0.1', ...dnsNames.map((name) => `DNS:${name}`)].join(',')}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ]),
    { stdio: 'ignore' },
  );
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
