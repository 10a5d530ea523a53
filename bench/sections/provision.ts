// Provisioning figures: what the camera-side handler costs in XS firmware compute units (bridge
// excluded) — booting the provisioning service on first boot (making the key pair), answering
// identify, and checking and storing an install — against the signature checks it must make
// (certificate and configuration, each one COSE_Sign1 verification) measured alone.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameMessage } from '../../firmware/dock/frame.js';
import { DEFAULT_SETTINGS, signConfig } from '../../firmware/provision/config.js';
import { encodeProvisionMessage } from '../../firmware/provision/messages.js';
import { issueCertificate } from '../../firmware/signing/certificate.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { startEngine } from '../../host-sim/engine.js';
import { FileKeyStores } from '../../host-sim/node/file-keystore.js';
import { nodeChecksum, nodeDigest, SimHardware } from '../../host-sim/node/hardware.js';
import type { Report } from '../report.js';

export default async function provision(report: Report): Promise<void> {
  report.section('provision: the camera side of provisioning, in XS');
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-bench-provision-'));
  const hw = new SimHardware({ seed: 'bench-provision' });
  const engine = await startEngine('xs', { ...hw.platform(), KeyStore: new FileKeyStores(dir, { nvsNames: true }).port() });
  try {
    const open = await engine.call('provision.open');
    const key = (open.value as Map<string, Uint8Array>).get('key')!;
    const root = new KeyPairSigner({ seed: new Uint8Array(32).fill(3), digest: nodeDigest });
    const cert = issueCertificate({ id: 'CAM-1', kind: 'device', publicKey: key, agency: 'Bench', serial: 1, notBefore: 0, notAfter: 4e12 }, root);
    const config = signConfig({ ...DEFAULT_SETTINGS, agency: 'Bench', device: 'CAM-1', version: 1, issued: 0 }, root);
    const frame = (t: 'identify' | 'install', f = {}) => frameMessage(encodeProvisionMessage(t, f), nodeChecksum);
    const identify = await engine.call('provision.receive', frame('identify'));
    const install = await engine.call('provision.receive', frame('install', { cert, root: root.publicKey, config, revocations: null, force: false }));
    // The camera's Ed25519 (noble), as the install uses it; tweetnacl's beside it.
    const c1 = await engine.call('signing.cose.check', cert, root.publicKey, null, 'camera');
    const c2 = await engine.call('signing.cose.check', config, root.publicKey, null, 'camera');
    const t1 = await engine.call('signing.cose.check', cert, root.publicKey, null);
    const t2 = await engine.call('signing.cose.check', config, root.publicKey, null);
    const verifies = c1.meter!.firmware + c2.meter!.firmware;
    report.add({ name: 'XS: first boot of the provisioning service (key pair made and stored)', value: open.meter!.firmware, unit: 'compute units', baseline: { name: 'one COSE_Sign1 verification', value: c1.meter!.firmware } });
    report.add({ name: 'XS: identify answered', value: identify.meter!.firmware, unit: 'compute units', baseline: { name: 'one COSE_Sign1 verification', value: c1.meter!.firmware } });
    report.add({ name: "XS: install checked and stored (certificate, root, configuration; the camera's Ed25519, noble)", value: install.meter!.firmware, unit: 'compute units', baseline: { name: 'its two COSE_Sign1 verifications alone', value: verifies } });
    report.add({ name: 'XS: the same two verifications with tweetnacl (what an install cost before issue 18)', value: t1.meter!.firmware + t2.meter!.firmware, unit: 'compute units', baseline: { name: 'with noble', value: verifies } });
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
