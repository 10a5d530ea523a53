// The console's HTML, rendered on the server: plain pages with forms, plus one small script
// (assets/console.js) for what must move — the board's live rows, the timeline's bars, the player.
// Everything dynamic goes through esc(); the pages carry no inline script or style (the server's
// Content-Security-Policy forbids both).

import type { SignedIn } from './accounts.js';
import type { BoardRow } from './board.js';
import type { CustodyRow, DeviceSummary, Finding, SegmentFrames, Timeline } from './evidence-view.js';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const iso = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC'));
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 23);

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function layout(title: string, who: SignedIn | undefined, body: string, o: { dock: string; wide?: boolean } = { dock: '' }): string {
  const nav = who
    ? `<nav><a href="/board">Dock board</a>${who.role === 'examiner' ? ' <a href="/evidence">Evidence</a>' : ''}
       <span class="who" data-testid="who">${esc(who.name)} (${esc(who.role)})</span>
       <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${esc(who.csrf)}"><button type="submit">Sign out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — ${esc(o.dock)}</title><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script></head>
<body class="${o.wide ? 'wall' : ''}"><header><span class="brand">bodycam · ${esc(o.dock)}</span>${nav}</header>
<main>${body}</main></body></html>`;
}

export function signInPage(dock: string, message?: string): string {
  return layout('Sign in', undefined, `<h1>Sign in</h1>
<p>The dock console: sign in with the account the station's administrator made for you (<code>bodycam console add-account</code>).</p>
${message ? `<p class="error" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/login" class="signin" data-testid="sign-in">
<label>Account <input name="name" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`, { dock });
}

export function errorPage(dock: string, who: SignedIn | undefined, status: number, code: string, message: string): string {
  return layout('Error', who, `<h1>${status === 403 ? 'Not for this account' : status === 404 ? 'Not found' : 'Error'}</h1><p class="error"><code>${esc(code)}</code> ${esc(message)}</p>`, { dock });
}

export function boardRowsHtml(rows: BoardRow[]): string {
  if (!rows.length) return '<tr class="empty"><td colspan="8">No camera docked yet.</td></tr>';
  return rows
    .map((r) => {
      const pct = r.bytesTotal ? Math.min(100, Math.round((r.bytesDone / r.bytesTotal) * 100)) : r.state === 'done' ? 100 : 0;
      return `<tr data-session="${esc(r.session)}" data-device="${esc(r.device ?? '')}" class="state-${esc(r.state.split(' ')[0])}">
<td class="device">${esc(r.device ?? 'unknown camera')}</td><td class="officer">${esc(r.officer ?? '—')}</td>
<td class="state">${esc(r.state)}</td>
<td class="segments">${r.segmentsDone} / ${r.segmentsTotal}</td>
<td class="bytes"><span class="bar"><span class="fill" data-pct="${pct}"></span></span> <span class="bytes-done">${esc(mib(r.bytesDone))}</span> / ${esc(mib(r.bytesTotal))} <span class="pct">${pct}%</span></td>
<td class="rate">${esc(mib(r.rate))}/s</td>
<td class="left">${r.secondsLeft === null ? '—' : `${r.secondsLeft} s`}</td>
<td class="error">${r.error ? `<code>${esc(r.error.code)}</code> ${esc(r.error.message)}` : ''}</td></tr>`;
    })
    .join('\n');
}

export function boardPage(dock: string, who: SignedIn, rows: BoardRow[]): string {
  return layout('Dock board', who, `<h1>Dock board <span class="live" id="live" data-testid="live">connecting…</span></h1>
<table class="board" data-testid="board"><thead><tr><th>Camera</th><th>Officer</th><th>State</th><th>Segments</th><th>Data</th><th>Rate</th><th>Time left</th><th>Last error</th></tr></thead>
<tbody id="board-rows">${boardRowsHtml(rows)}</tbody></table>`, { dock, wide: true });
}

const verdict = (valid: boolean) => `<span class="verdict ${valid ? 'ok' : 'bad'}">${valid ? 'VERIFIED' : 'FAILED'}</span>`;
/** What a console without the evidence key says of a sealed segment. */
export const NO_KEY = 'sealed: this console holds no evidence key';
const sealedNote = (keyId: string | null) =>
  keyId
    ? `<p class="note" data-testid="evidence-key">Sealed segments are opened in this console's memory with evidence key <code>${esc(keyId)}</code>; every opening is written to the custody log.</p>`
    : '';
const findingsHtml = (f: Finding[]) => (f.length ? `<ul class="findings">${f.map((x) => `<li><code>${esc(x.code)}</code> ${esc(x.message)}</li>`).join('')}</ul>` : '');

export function devicesPage(dock: string, who: SignedIn, devices: DeviceSummary[], trust: Timeline['trust']): string {
  return layout('Evidence', who, `<h1>Evidence</h1>${trustLine(trust)}
<table data-testid="devices"><thead><tr><th>Camera</th><th>Verdict</th><th>Segments</th><th>Findings</th><th>From</th><th>To</th></tr></thead><tbody>
${devices.map((d) => `<tr><td><a href="/evidence/${encodeURIComponent(d.device)}">${esc(d.device)}</a></td><td>${verdict(d.valid)}</td><td>${d.segments}</td><td>${d.findings}</td><td>${iso(d.firstUtc)}</td><td>${iso(d.lastUtc)}</td></tr>`).join('\n') || '<tr><td colspan="6">No evidence in this store yet.</td></tr>'}
</tbody></table>`, { dock });
}

function trustLine(t: Timeline['trust']): string {
  return `<p class="trust">Checked against the agency root <code>${esc(t.fingerprint.slice(0, 16))}…</code> (${esc(t.rootFrom)}), verified afresh for this page.</p>`;
}

/** exportSigner: who signs this console's MP4 exports (the signer certificate's subject), or null: they are UNSIGNED. */
export function timelinePage(dock: string, who: SignedIn, t: Timeline, officer: string | undefined, exportSigner: string | null = null): string {
  const segs = t.items.filter((i) => i.kind === 'segment');
  const seqs = segs.map((s) => s.seq).filter((s): s is number => s !== null);
  const rows = t.items
    .map((i) => {
      if (i.kind === 'gap') {
        const what = i.why === 'power-cut' ? 'Power cut: the camera restarted and recovered its open segment' : i.why === 'reboot' ? 'The camera restarted' : 'Not recording';
        return `<tr class="gap gap-${i.why}" data-testid="gap"><td></td><td colspan="8">${esc(what)} — ${((i.toUtc - i.fromUtc) / 1000).toFixed(1)} s not recorded (${hms(i.fromUtc)} → ${hms(i.toUtc)})</td></tr>`;
      }
      const kind = [i.preEvent ? 'recording, starts with the pre-event buffer' : 'recording', i.recovered ? 'recovered after power cut' : '', i.cleanClose ? '' : i.recovered ? '' : 'not cleanly closed', i.unread ? 'signed unread (its key was lost in the cut)' : ''].filter(Boolean).join(', ');
      const sealed = i.sealedTo ? `<span class="sealed" data-testid="sealed">${t.evidenceKey ? `sealed to ${esc(i.sealedTo.join(', '))}` : `${NO_KEY} (sealed to ${esc(i.sealedTo.join(', '))})`}</span>` : '';
      return `<tr class="segment ${i.valid ? 'valid' : 'invalid'}" data-testid="segment" data-seq="${esc(i.seq)}">
<td>${esc(i.seq)}</td><td>${esc(kind)}${sealed}</td><td>${esc(i.boot)}</td><td>${iso(i.firstUtc)}</td><td>${iso(i.lastUtc)}</td><td>${esc(i.frames)}</td>
<td class="dropped">${i.dropped ? `<strong>${i.dropped}</strong>` : '0'}</td><td>${verdict(i.valid)}${findingsHtml(i.findings)}</td>
<td>${i.seq !== null ? `<a href="/evidence/${encodeURIComponent(t.device)}/segments/${i.seq}" data-testid="play">Play</a>` : ''}</td></tr>`;
    })
    .join('\n');
  const first = Math.min(...segs.map((s) => s.firstUtc ?? Infinity));
  const last = Math.max(...segs.map((s) => s.lastUtc ?? -Infinity));
  const bars = t.items
    .map((i) =>
      i.kind === 'gap'
        ? `<span class="tl gap ${i.why}" data-from="${i.fromUtc}" data-to="${i.toUtc}" title="${esc(i.why)}"></span>`
        : i.firstUtc === null
          ? ''
          : `<span class="tl seg ${i.valid ? 'valid' : 'invalid'} ${i.preEvent ? 'pre' : ''}" data-from="${i.firstUtc}" data-to="${i.lastUtc}" title="segment ${esc(i.seq)}"></span>`,
    )
    .join('');
  const options = seqs.map((s) => `<option value="${s}">${s}</option>`).join('');
  return layout(`Evidence of ${t.device}`, who, `<h1>${esc(t.device)} ${verdict(t.valid)}</h1>
<p>Officer: ${esc(officer ?? 'not known to this dock')} · certificate serial ${esc(t.certificate?.serial ?? '—')} (${esc(t.certificate?.agency ?? '—')}) · <a href="/evidence/${encodeURIComponent(t.device)}/custody" data-testid="custody-link">Custody log</a></p>
${trustLine(t.trust)}${sealedNote(t.evidenceKey)}${findingsHtml(t.deviceFindings)}
<div class="timeline" id="timeline" data-first="${first}" data-last="${last}">${bars}</div>
<p class="legend"><span class="tl seg valid"></span> verified <span class="tl seg valid pre"></span> starts with the pre-event buffer <span class="tl seg invalid"></span> failed <span class="tl gap power-cut"></span> power cut</p>
<table data-testid="timeline"><thead><tr><th>Seq</th><th>Kind</th><th>Boot</th><th>First frame (camera clock)</th><th>Last frame</th><th>Frames</th><th>Lost</th><th>Verification</th><th></th></tr></thead><tbody>
${rows}</tbody></table>
<h2>Export</h2>
<form method="post" action="/evidence/${encodeURIComponent(t.device)}/export" data-testid="export-form"><input type="hidden" name="_csrf" value="${esc(who.csrf)}">
<label>From segment <select name="from">${options}</select></label> <label>to <select name="to">${seqs.map((s, i) => `<option value="${s}"${i === seqs.length - 1 ? ' selected' : ''}>${s}</option>`).join('')}</select></label>
<label>as <select name="format" data-testid="export-format"><option value="mp4" selected>MP4${exportSigner ? ' with C2PA content credentials' : ' (unsigned)'}</option><option value="avi">AVI with timing sidecar</option></select></label>
<label><input type="checkbox" name="accept" value="1"> export despite findings (each is recorded in the integrity report)</label>
<button type="submit">Export with integrity report</button></form>
${exportSigner ? `<p class="note" data-testid="export-signer">MP4 exports carry C2PA content credentials signed by ${esc(exportSigner)}: <code>bodycam verify FILE.mp4 --root FILE</code> re-checks them down to the camera's signatures.</p>` : `<p class="note" data-testid="export-signer">MP4 exports from this console are UNSIGNED: the station has no export signer (<code>bodycam dock --signer DIR</code>), so the file carries no content credentials; its integrity report says what was verified.</p>`}`, { dock });
}

export function playerPage(dock: string, who: SignedIn, f: SegmentFrames): string {
  const offset = f.clockOffsetMs === null ? 'no signed drift statement: only the camera clock is known' : `${f.clockOffsetMs} ms (camera clock minus dock UTC, from the camera's signed drift statement)`;
  const signed = `<tr><th>Signed in the manifest</th><td>${f.signed ? `first frame ${hms(f.signed.firstUtc)}, last ${hms(f.signed.lastUtc)}, ${f.signed.frames} frames, ${f.signed.dropped} lost` : '—'}</td></tr>`;
  const head = `<h1><a href="/evidence/${encodeURIComponent(f.device)}">${esc(f.device)}</a> · segment ${f.seq} ${verdict(f.valid)}</h1>
${findingsHtml(f.findings)}`;
  const s = f.sealed;
  if (s && !s.openedWith) {
    // Verified without the key; no picture.
    const why = s.keyHeld ? `sealed: this console's evidence key could not open it (<code>${esc(s.error?.code)}</code> ${esc(s.error?.message)})` : `${NO_KEY}. Its verification above needs no key: the signature, digest, chain and custody of the sealed media are checked; what is inside (each frame, its header and times) is seen only with the agency's evidence key.`;
    return layout(`${f.device} segment ${f.seq}`, who, `${head}
<p class="sealed error" data-testid="sealed-view">${why}</p>
<table class="times" data-testid="times"><tbody>
<tr><th>Sealed to (evidence key ids)</th><td>${esc(s.to.join(', '))}</td></tr>
${signed}
</tbody></table>`, { dock });
  }
  return layout(`${f.device} segment ${f.seq}`, who, `${head}
${s ? `<p class="note" data-testid="sealed-opened">Sealed: opened in this console's memory with evidence key <code>${esc(s.openedWith)}</code> (this view is in the custody log).</p>` : ''}
<div class="player" id="player" data-frames="/evidence/${encodeURIComponent(f.device)}/segments/${f.seq}/frames.json" data-base="/evidence/${encodeURIComponent(f.device)}/segments/${f.seq}/frames/">
<figure><img id="frame" alt="frame" width="${f.width}" height="${f.height}" data-testid="frame"><figcaption>The picture as the camera stored it: the time burned into it is the camera's clock at capture.</figcaption>
<div class="controls"><button id="play" type="button">Play</button> <input id="seek" type="range" min="0" max="${Math.max(0, f.frames.length - 1)}" value="0"> <span id="position">0 / ${f.frames.length}</span></div></figure>
<table class="times" data-testid="times"><tbody>
<tr><th>Frame number</th><td id="t-number">—</td></tr>
<tr><th>Camera clock at capture (frame header, covered by the signed media digest)</th><td id="t-utc">—</td></tr>
<tr><th>Corrected to dock UTC (signed clock offset)</th><td id="t-corrected">—</td></tr>
<tr><th>Monotonic time</th><td id="t-mono">—</td></tr>
<tr><th>Frames lost just before</th><td id="t-dropped">—</td></tr>
<tr><th>Clock offset</th><td id="t-offset" data-offset="${f.clockOffsetMs ?? ''}">${esc(offset)}</td></tr>
${signed}
</tbody></table></div>`, { dock });
}

export function custodyPage(dock: string, who: SignedIn, device: string, c: { rows: CustodyRow[]; checkpoint: { file: string; size: number; dock: string; utc: string } | null; statements: string[]; findings: Finding[] }): string {
  return layout(`Custody of ${device}`, who, `<h1><a href="/evidence/${encodeURIComponent(device)}">${esc(device)}</a> · custody log</h1>
<p>${c.checkpoint ? `The newest signed checkpoint (${esc(c.checkpoint.size)} entries, signed by ${esc(c.checkpoint.dock)} at ${esc(c.checkpoint.utc)}) verifies against the agency root and the log reproduces it. Entries after it are signed into the next checkpoint (after the next docking, or when the station stops).` : 'No signed checkpoint covers this log yet.'}</p>
${c.statements.map((s) => `<p class="note">${esc(s)}</p>`).join('')}${findingsHtml(c.findings)}
<table data-testid="custody"><thead><tr><th>#</th><th>When (UTC)</th><th>Who</th><th>Event</th><th>Detail</th><th>Dock</th><th>Signed</th></tr></thead><tbody>
${c.rows.map((r) => `<tr data-event="${esc(r.event)}"><td>${r.index}</td><td>${iso(r.at)}</td><td class="account">${esc(accountOf(r.detail) ?? 'station')}</td><td>${esc(r.event)}</td><td class="detail">${esc(r.detail ?? '')}</td><td>${esc(r.dock)}</td><td>${r.signed ? 'checkpoint' : 'pending'}</td></tr>`).join('\n')}
</tbody></table>`, { dock });
}

export function exportPage(dock: string, who: SignedIn, device: string, o: { blocked: string[]; findings: Finding[]; accepted: boolean; files?: { name: string; href: string; bytes: number }[]; summary?: string; credentials?: { signed: boolean; text: string } }): string {
  const credentials = o.credentials ? `<p class="${o.credentials.signed ? 'note' : 'unsigned error'}" data-testid="${o.credentials.signed ? 'export-signed' : 'export-unsigned'}">${esc(o.credentials.text)}</p>` : '';
  const body = o.blocked.length
    ? `<p class="error" data-testid="export-refused">Refused: ${o.blocked.map(esc).join('; ')}</p>`
    : o.files
      ? `<p data-testid="export-done">${esc(o.summary ?? '')}</p>${credentials}<ul class="downloads">${o.files.map((f) => `<li><a href="${esc(f.href)}" download data-testid="download">${esc(f.name)}</a> (${f.bytes} bytes)</li>`).join('')}</ul>${o.findings.length ? `<p>Accepted findings, recorded in the integrity report:</p>${findingsHtml(o.findings)}` : ''}`
      : `<p class="error" data-testid="export-refused">Verification of ${esc(device)} found ${o.findings.length} thing(s); tick "export despite findings" to record them in the integrity report.</p>${findingsHtml(o.findings)}`;
  return layout(`Export of ${device}`, who, `<h1><a href="/evidence/${encodeURIComponent(device)}">${esc(device)}</a> · export</h1>${body}`, { dock });
}

/** The console account a custody entry names (console events), if any. */
function accountOf(detail: string | null): string | undefined {
  try {
    const d = detail === null ? null : (JSON.parse(detail) as { account?: unknown } | null);
    return d && typeof d.account === 'string' ? d.account : undefined;
  } catch {
    return undefined;
  }
}
