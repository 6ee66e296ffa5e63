/** The dashboard's stylesheet (served from /admin/assets; style-src 'self', no inline style). */
export const ADMIN_CSS = `/* sessiond admin: system fonts, WCAG AA contrast, focus always visible. */
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; --accent: #0b57d0; --danger: #b3261e; --ok: #116329; --s1: #0b57d0; --s2: #c2410c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 0 0 .75rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5rem 1rem; }
.skip:focus { left: 1rem; z-index: 10; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.muted, .hint { color: var(--muted); }
.hint { font-size: .9rem; margin: .25rem 0 .75rem; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
.brand { font-weight: 700; margin: 0; }
.top nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
.sign-out { margin-left: auto; display: flex; align-items: center; gap: .75rem; }
main { max-width: 80rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
main.narrow { max-width: 28rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 2rem; }
section { margin: 0 0 1.5rem; scroll-margin-top: 4rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
label { display: block; font-weight: 600; margin: 0 0 .2rem; }
label.check { display: inline-flex; gap: .4rem; align-items: center; font-weight: 400; }
input[type=text], input[type=search], input[type=password], input[type=datetime-local], select { width: 100%; padding: .45rem .6rem; font: inherit; border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: var(--ink); }
button { font: inherit; font-weight: 600; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--accent); cursor: pointer; background: #fff; color: var(--accent); }
button:disabled { opacity: .55; cursor: not-allowed; }
button.primary { background: var(--accent); color: #fff; }
button.danger { border-color: var(--danger); color: var(--danger); background: #fff; }
button.danger:hover:not(:disabled) { background: var(--danger); color: #fff; }
button.small { padding: .15rem .6rem; font-size: .9rem; }
button.link { border: 0; padding: 0; background: none; text-decoration: underline; font-weight: 400; }
main.narrow button.primary { width: 100%; margin-top: 1rem; }
.inline { display: flex; gap: .75rem; align-items: flex-end; flex-wrap: wrap; }
.grow { flex: 1 1 20rem; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; align-items: end; margin-bottom: 1rem; }
.filters .actions { display: flex; gap: .5rem; }
.toolbar { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
.status:empty { display: none; }
.status { background: #ddf4ff; border: 1px solid #54aeff; border-radius: 6px; padding: .5rem 1rem; }
.notice { background: #ddf4ff; border-radius: 6px; padding: .5rem 1rem; }
.error-summary { border: 2px solid var(--danger); border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; color: var(--danger); }
.error-summary h2 { font-size: 1rem; margin: 0 0 .25rem; }
.error-summary p { margin: 0; color: var(--ink); }
table.data { width: 100%; border-collapse: collapse; margin: .75rem 0; font-size: .92rem; }
table.data caption { text-align: left; font-weight: 600; padding: .25rem 0; }
table.data th, table.data td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.data thead th { background: var(--bg); }
td.ua { max-width: 22rem; overflow-wrap: anywhere; color: var(--muted); font-size: .85rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid currentColor; }
.badge.live { color: var(--ok); }
.badge.ended, .badge.expired { color: var(--danger); }
.pager { display: flex; gap: 1rem; align-items: center; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(28rem, 1fr)); gap: 1rem; }
figure.chart { margin: 0; }
figure.chart h3 { margin-top: 0; }
.plot svg { width: 100%; height: auto; display: block; }
.plot .bar.s1, .key.s1 { fill: var(--s1); background: var(--s1); }
.plot .bar.s2, .key.s2 { fill: var(--s2); background: var(--s2); }
.plot .grid { stroke: var(--line); }
.plot text { font-size: 12px; fill: var(--ink); }
.plot text.axis { fill: var(--muted); font-size: 11px; }
.legend { margin: .25rem 0 0; font-size: .9rem; }
.key { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin-left: .5rem; }
details summary { cursor: pointer; color: var(--accent); }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .75rem; margin: 0; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.stat dt { color: var(--muted); font-size: .85rem; }
.stat dd { margin: 0; font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat dd .note { display: block; font-size: .8rem; font-weight: 400; color: var(--muted); }
.live-dot::before { content: ""; display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; background: var(--ok); margin-right: .4rem; }
.matches { padding-left: 1.25rem; }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem 1.5rem; max-width: 32rem; }
dialog::backdrop { background: rgba(31, 35, 40, .45); }
[hidden] { display: none !important; }
`;
