/**
 * The replay page of one session: who, where, under which policy revision,
 * then a timeline of every command with its decision and outcome. Record
 * data is only ever placed with textContent, never parsed as HTML.
 */
export function replayPage(sessionId: string): string {
  const id = JSON.stringify(sessionId).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Warden session replay</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .meta { color: #57606a; margin-bottom: 16px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
  .allow { background: #dafbe1; color: #116329; }
  .deny { background: #ffebe9; color: #a40e26; }
  .review { background: #fff8c5; color: #7d4e00; }
  .sealed { background: #ddf4ff; color: #0550ae; }
  .tampered { background: #a40e26; color: #fff; }
  .unsealed { background: #eaeef2; color: #57606a; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  td.sql { font-family: ui-monospace, monospace; white-space: pre-wrap; max-width: 560px; }
  #error { color: #a40e26; }
</style>
</head>
<body>
<h1>Session <span id="sid"></span> <span id="verification" class="badge"></span></h1>
<div class="meta" id="meta"></div>
<div id="error"></div>
<table>
  <thead><tr><th>time</th><th>command</th><th>decision</th><th>reasons</th><th>outcome</th></tr></thead>
  <tbody id="timeline"></tbody>
</table>
<script>
const id = ${id};
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };
document.getElementById('sid').textContent = id;
async function get(path) {
  const r = await fetch(path, { headers: { authorization: 'Bearer ' + token } });
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}
function outcome(r) {
  if (!r) return '';
  const parts = [];
  if (r.error) parts.push('error ' + (r.error.code || ''));
  if (r.rows) parts.push(r.rows + ' rows');
  if (r.affected !== null && r.affected !== undefined) parts.push(r.affected + ' affected');
  parts.push(r.duration_ms + ' ms');
  return parts.join(', ');
}
(async () => {
  try {
    const [record, report] = await Promise.all([get('/v1/sessions/' + encodeURIComponent(id)), get('/v1/sessions/' + encodeURIComponent(id) + '/verify')]);
    const v = document.getElementById('verification');
    v.textContent = report.status; v.classList.add(report.status);
    const start = record.events.find((e) => e.type === 'session.start');
    const end = record.events.find((e) => e.type === 'session.end');
    if (start) {
      const d = start.data;
      document.getElementById('meta').textContent =
        d.identity.subject + ' (' + d.identity.kind + ', ' + d.identity.issuer + ') on ' + d.target.name +
        ' from ' + d.client.address + ' · started ' + d.session.started + (end ? ' · ended ' + end.data.ended : ' · not ended') +
        ' · policy ' + (d.revisions.join(', ') || 'none');
    }
    const rows = new Map();
    const body = document.getElementById('timeline');
    for (const e of record.events) {
      if (e.type === 'command') {
        const tr = document.createElement('tr');
        tr.append(text('td', e.time), text('td', e.data.raw, 'sql'), text('td', ''), text('td', ''), text('td', ''));
        rows.set(e.seq, tr);
        body.append(tr);
      } else if (e.type === 'decision' && rows.has(e.data.command)) {
        const cells = rows.get(e.data.command).children;
        cells[2].replaceChildren(text('span', e.data.action, 'badge ' + e.data.action));
        cells[3].textContent = e.data.reasons.map((r) => r.code + ': ' + r.message).join('; ');
      } else if (e.type === 'result' && rows.has(e.data.command)) {
        const cell = rows.get(e.data.command).children[4];
        cell.textContent = [cell.textContent, outcome(e.data)].filter(Boolean).join(' | ');
      }
    }
  } catch (err) {
    document.getElementById('error').textContent = 'Cannot load the session: ' + err.message;
  }
})();
</script>
</body>
</html>
`;
}
