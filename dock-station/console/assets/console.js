// The console's one script (no build step): the dock board's live rows over server-sent events,
// the timeline's bars, and the segment player. Plain DOM; the pages work without it except for
// what moves.
'use strict';

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function text(tag, value, cls) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  el.textContent = value;
  return el;
}

function boardRow(r) {
  const tr = document.createElement('tr');
  tr.dataset.session = r.session;
  tr.dataset.device = r.device || '';
  tr.className = `state-${r.state.split(' ')[0]}`;
  const pct = r.bytesTotal ? Math.min(100, Math.round((r.bytesDone / r.bytesTotal) * 100)) : r.state === 'done' ? 100 : 0;
  tr.append(text('td', r.device || 'unknown camera', 'device'), text('td', r.officer || '—', 'officer'), text('td', r.state, 'state'), text('td', `${r.segmentsDone} / ${r.segmentsTotal}`, 'segments'));
  const bytes = document.createElement('td');
  bytes.className = 'bytes';
  const bar = text('span', '', 'bar');
  const fill = text('span', '', 'fill');
  fill.style.width = `${pct}%`;
  bar.append(fill);
  bytes.append(bar, ' ', text('span', mib(r.bytesDone), 'bytes-done'), ` / ${mib(r.bytesTotal)} `, text('span', `${pct}%`, 'pct'));
  tr.append(bytes, text('td', `${mib(r.rate)}/s`, 'rate'), text('td', r.secondsLeft === null ? '—' : `${r.secondsLeft} s`, 'left'));
  const err = document.createElement('td');
  err.className = 'error';
  if (r.error) err.append(text('code', r.error.code), ` ${r.error.message}`);
  tr.append(err);
  return tr;
}

function board() {
  const body = document.getElementById('board-rows');
  if (!body) return;
  const live = document.getElementById('live');
  for (const f of body.querySelectorAll('.fill[data-pct]')) f.style.width = `${f.dataset.pct}%`;
  const events = new EventSource('/board/events');
  events.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
  });
  events.addEventListener('rows', (e) => {
    const rows = JSON.parse(e.data);
    if (!rows.length) return;
    body.replaceChildren(...rows.map(boardRow));
  });
}

function timeline() {
  const tl = document.getElementById('timeline');
  if (!tl) return;
  const first = Number(tl.dataset.first);
  const last = Number(tl.dataset.last);
  const span = Math.max(1, last - first);
  for (const bar of tl.querySelectorAll('.tl')) {
    const from = Number(bar.dataset.from);
    const to = Number(bar.dataset.to);
    bar.style.left = `${((from - first) / span) * 100}%`;
    bar.style.width = `${Math.max(0.3, ((to - from) / span) * 100)}%`;
  }
}

function player() {
  const root = document.getElementById('player');
  if (!root) return;
  const img = document.getElementById('frame');
  const seek = document.getElementById('seek');
  const play = document.getElementById('play');
  const position = document.getElementById('position');
  const offsetCell = document.getElementById('t-offset');
  const offset = offsetCell.dataset.offset === '' ? null : Number(offsetCell.dataset.offset);
  const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
  let frames = [];
  let at = 0;
  let timer;
  let playing = false;
  const show = (i) => {
    const f = frames[i];
    if (!f) return;
    at = i;
    img.src = `${root.dataset.base}${i}.jpg`;
    seek.value = String(i);
    position.textContent = `${i + 1} / ${frames.length}`;
    document.getElementById('t-number').textContent = `#${f.frameNumber}`;
    document.getElementById('t-utc').textContent = iso(f.utcMs);
    document.getElementById('t-corrected').textContent = offset === null ? '— (no signed clock offset)' : iso(f.utcMs - offset);
    document.getElementById('t-mono').textContent = `${f.monotonicMs} ms`;
    document.getElementById('t-dropped').textContent = f.droppedBefore ? `${f.droppedBefore} (a ${f.gapMs} ms gap)` : '0';
    root.dataset.shown = String(i);
  };
  const stop = () => {
    playing = false;
    clearTimeout(timer);
    timer = undefined;
    play.textContent = 'Play';
  };
  // Frames at their capture pace: the wait between two is their monotonic times' difference.
  const step = () => {
    if (!playing) return;
    if (at + 1 >= frames.length) return stop();
    const wait = Math.min(1000, Math.max(10, frames[at + 1].monotonicMs - frames[at].monotonicMs));
    timer = setTimeout(() => {
      show(at + 1);
      img.decode().then(step, step);
    }, wait);
  };
  play.addEventListener('click', () => {
    if (playing) return stop();
    playing = true;
    play.textContent = 'Pause';
    if (at + 1 >= frames.length) show(0);
    step();
  });
  seek.addEventListener('input', () => {
    stop();
    show(Number(seek.value));
  });
  fetch(root.dataset.frames, { credentials: 'same-origin' })
    .then((r) => r.json())
    .then((info) => {
      frames = info.frames;
      root.dataset.count = String(frames.length);
      show(0);
    });
}

document.addEventListener('DOMContentLoaded', () => {
  board();
  timeline();
  player();
});
