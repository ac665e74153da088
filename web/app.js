// The xnai web page: ask the document store (POST /v1/rag/query, streamed), show the answer
// as it arrives with its sources, speak it sentence by sentence (POST /v1/audio/speech per
// finished sentence, played in order while later ones are still being made), upload and
// remove documents, pick model and voice. Plain browser APIs, no build step.
'use strict';

const $ = (id) => document.getElementById(id);
const saved = (name, fallback = '') => localStorage.getItem('xnai.' + name) ?? fallback;
const save = (name, value) => localStorage.setItem('xnai.' + name, value);

let current = null;  // the running question: {controller, speaker}

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// fetch with the API key (when one is set) and OpenAI-style errors turned into exceptions.
async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const key = $('api-key').value.trim();
  if (key) headers.Authorization = 'Bearer ' + key;
  const res = await fetch(path, { ...options, headers });
  if (res.ok) return res;
  let message = `HTTP ${res.status}`;
  try {
    message = (await res.json()).error?.message || message;
  } catch { /* not JSON */ }
  if (res.status === 401) message += ' — enter the API key above';
  throw new Error(message);
}

const postJson = (path, body, signal) =>
  api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal });

function option(value, label, selected) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  o.selected = selected;
  return o;
}

async function loadModels() {
  const select = $('model');
  try {
    const { data } = await (await api('/v1/models')).json();
    const llms = data.filter((m) => m.kind === 'llm' || !m.kind);
    const want = saved('model');
    select.replaceChildren(...llms.map((m) => option(m.id, m.id, m.id === want)));
    if (!llms.length) select.append(option('', 'none (extractive answers)', true));
  } catch (e) {
    select.replaceChildren(option('', 'unavailable', true));
    setStatus('models: ' + e.message, true);
  }
}

async function loadVoices() {
  const select = $('voice');
  try {
    const list = await (await api('/v1/audio/voices')).json();
    const want = saved('voice', list.default);
    select.replaceChildren(...list.data.map((v) =>
      option(v.id, v.description ? `${v.id} — ${v.description}` : v.id, v.id === want)));
    select.disabled = $('speak').disabled = false;
    $('speak').checked = saved('speak', 'on') === 'on';
  } catch (e) {
    select.replaceChildren(option('', 'no speech', true));
    select.disabled = $('speak').disabled = true;
    $('speak').checked = false;
  }
}

async function loadDocuments() {
  const list = $('documents');
  try {
    const { data } = await (await api('/v1/rag/documents')).json();
    list.replaceChildren(...data.map(documentItem));
    if (!data.length) list.replaceChildren(Object.assign(document.createElement('li'),
      { className: 'muted', textContent: 'No documents yet: upload some.' }));
  } catch (e) {
    list.replaceChildren(Object.assign(document.createElement('li'), { className: 'error', textContent: e.message }));
  }
}

function documentItem(doc) {
  const li = document.createElement('li');
  const name = Object.assign(document.createElement('span'), { className: 'name', textContent: doc.filename });
  name.title = `${doc.chunks} chunks${doc.pages ? `, ${doc.pages} pages` : ''} — ${doc.source_path}`;
  const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: '×' });
  remove.setAttribute('aria-label', 'Remove ' + doc.filename);
  remove.addEventListener('click', async () => {
    try {
      await api('/v1/rag/documents/' + encodeURIComponent(doc.id), { method: 'DELETE' });
      setStatus('Removed ' + doc.filename);
    } catch (e) {
      setStatus(e.message, true);
    }
    loadDocuments();
  });
  li.append(name, remove);
  return li;
}

async function upload(event) {
  event.preventDefault();
  const files = [...$('file').files];
  if (!files.length) return setStatus('Choose a file to upload first', true);
  for (const file of files) {
    setStatus('Uploading ' + file.name + '…');
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const doc = await (await api('/v1/rag/documents', { method: 'POST', body: form })).json();
      setStatus(`${doc.status === 'skipped' ? 'Unchanged' : 'Added'}: ${doc.filename} (${doc.chunks} chunks)`);
    } catch (e) {
      setStatus(`${file.name}: ${e.message}`, true);
    }
  }
  $('file').value = '';
  loadDocuments();
}

// Server-sent events from a fetch body: yields {event, data} per event.
async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let cut;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
      const ev = { event: 'message', data: '' };
      for (const line of block.split(/\r?\n/)) {
        const m = /^(\w+): ?(.*)$/.exec(line);
        if (m && m[1] === 'event') ev.event = m[2];
        else if (m && m[1] === 'data') ev.data += (ev.data ? '\n' : '') + m[2];
      }
      yield ev;
    }
  }
}

// Cuts streamed text into sentences: a sentence ends at . ! ? … (with closing quotes or
// brackets) followed by white space; a very long run without one is cut at a space.
class SentenceSplitter {
  constructor(onSentence) {
    this.buf = '';
    this.onSentence = onSentence;
  }
  push(text) {
    this.buf += text;
    const end = /[.!?…]+["'”’)\]]*\s+/g;
    let last = 0, m;
    while ((m = end.exec(this.buf))) {
      this.emit(this.buf.slice(last, m.index + m[0].length));
      last = m.index + m[0].length;
    }
    this.buf = this.buf.slice(last);
    if (this.buf.length > 300) {
      const space = this.buf.lastIndexOf(' ');
      if (space > 0) {
        this.emit(this.buf.slice(0, space));
        this.buf = this.buf.slice(space + 1);
      }
    }
  }
  flush() {
    this.emit(this.buf);
    this.buf = '';
  }
  emit(s) {
    if (s.trim()) this.onSentence(s.trim());
  }
}

// Speaks sentences in the order given. Each sentence's audio is requested as soon as it is
// known (the server makes them in turn), and played once the one before it has ended.
class Speaker {
  constructor(voice, signal) {
    this.voice = voice;
    this.signal = signal;
    this.queue = Promise.resolve();
    this.urls = [];
    this.asked = 0;
    this.spoken = 0;
  }
  say(sentence) {
    const text = sentence.replace(/\s*\[\d+\]/g, '').trim();
    if (!/[\p{L}\p{N}]/u.test(text)) return;
    this.asked++;
    this.report();
    const audio = this.fetchAudio(text);
    audio.catch(() => {});  // reported when its turn comes
    this.queue = this.queue
      .then(() => audio)
      .then((url) => this.play(url))
      .catch((e) => { if (!this.signal.aborted) $('speech-status').textContent = 'speech: ' + e.message; });
  }
  async fetchAudio(text) {
    const body = { model: 'tts-1', input: text, response_format: 'mp3' };
    if (this.voice) body.voice = this.voice;
    const blob = await (await postJson('/v1/audio/speech', body, this.signal)).blob();
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return url;
  }
  play(url) {
    if (this.signal.aborted) return;
    const player = $('player');
    return new Promise((resolve, reject) => {
      const stop = () => { player.pause(); resolve(); };
      this.signal.addEventListener('abort', stop, { once: true });
      player.onended = () => {
        this.signal.removeEventListener('abort', stop);
        this.spoken++;
        this.report();
        resolve();
      };
      player.onerror = () => reject(new Error('the browser cannot play the audio'));
      player.src = url;
      player.play().catch(reject);
    });
  }
  report() {
    $('speech-status').textContent = `Spoken ${this.spoken} of ${this.asked} sentence${this.asked === 1 ? '' : 's'}`;
    $('speech-status').dataset.spoken = this.spoken;
  }
  async finish() {
    await this.queue;
    this.urls.forEach(URL.revokeObjectURL);
  }
}

function sourceLabel(c) {
  const file = (c.file || '').split(/[\\/]/).pop() || c.title || c.doc_id;
  const page = c.page ? (c.page_last && c.page_last !== c.page ? ` pp. ${c.page}–${c.page_last}` : ` p. ${c.page}`) : '';
  return `[${c.number}] ${file}${page}`;
}

function showCited(c) {
  $('cited-title').textContent = sourceLabel(c) + (c.heading ? ` — ${c.heading}` : '');
  $('cited-text').textContent = c.text;
  $('cited').hidden = false;
}

// The retrieved sources, numbered as the answer cites them; the cited ones are marked.
function showSources(result) {
  const cited = new Set((result.citations || []).map((c) => c.number));
  const all = result.sources && result.sources.length ? result.sources : result.citations || [];
  $('sources').replaceChildren(...all.map((c) => {
    const li = document.createElement('li');
    li.value = c.number;
    li.classList.toggle('cited', cited.has(c.number));
    const a = Object.assign(document.createElement('a'),
      { href: '#cited', className: 'source', textContent: sourceLabel(c) });
    a.addEventListener('click', (e) => { e.preventDefault(); showCited(c); });
    const score = Object.assign(document.createElement('span'),
      { className: 'score', textContent: typeof c.score === 'number' ? c.score.toFixed(3) : '' });
    li.append(a, score);
    return li;
  }));
  $('sources-title').hidden = all.length === 0;
  return all;
}

// The finished answer again, its [n] markers now links to source n.
function linkMarkers(text, sources) {
  const byNumber = new Map(sources.map((c) => [c.number, c]));
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const c = byNumber.get(Number(m[1]));
    if (!c) continue;
    parts.push(text.slice(last, m.index));
    const a = Object.assign(document.createElement('a'), { href: '#cited', className: 'ref', textContent: m[0] });
    a.addEventListener('click', (e) => { e.preventDefault(); showCited(c); });
    parts.push(a);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  $('answer').replaceChildren(...parts);
}

function stopCurrent() {
  if (current) current.controller.abort();
  current = null;
  $('player').pause();
}

async function ask(event) {
  event.preventDefault();
  const question = $('question').value.trim();
  if (!question) return;
  stopCurrent();
  const controller = new AbortController();
  const speaker = $('speak').checked && !$('voice').disabled ? new Speaker($('voice').value, controller.signal) : null;
  const run = (current = { controller, speaker });
  const splitter = new SentenceSplitter((s) => speaker && speaker.say(s));
  $('answer').textContent = '';
  $('sources').replaceChildren();
  $('sources-title').hidden = true;
  $('cited').hidden = true;
  $('speech-status').textContent = '';
  $('stop').disabled = false;
  $('ask').disabled = true;
  setStatus('Thinking…');

  const body = { question, stream: true };
  if ($('model').value) body.model = $('model').value;
  let text = '', sources = [];
  try {
    const res = await postJson('/v1/rag/query', body, controller.signal);
    setStatus('Answering…');
    for await (const ev of sseEvents(res.body)) {
      if (ev.data === '[DONE]') break;
      const msg = JSON.parse(ev.data);
      if (msg.error) throw new Error(msg.error.message);
      if (ev.event === 'citations') {
        sources = showSources(msg);
      } else if (typeof msg.delta === 'string') {
        text += msg.delta;
        $('answer').textContent = text;
        splitter.push(msg.delta);
      }
    }
    splitter.flush();
    linkMarkers(text, sources);
    setStatus(sources.length ? '' : 'No matching passages in your documents.');
    $('ask').disabled = false;
    if (speaker) await speaker.finish();
  } catch (e) {
    if (!controller.signal.aborted) setStatus(e.message, true);
  } finally {
    if (current === run) {
      current = null;
      $('stop').disabled = true;
    }
    $('ask').disabled = false;
  }
}

function init() {
  $('api-key').value = saved('apiKey');
  $('api-key').addEventListener('change', () => {
    save('apiKey', $('api-key').value.trim());
    setStatus('');
    loadModels(); loadVoices(); loadDocuments();
  });
  $('model').addEventListener('change', () => save('model', $('model').value));
  $('voice').addEventListener('change', () => save('voice', $('voice').value));
  $('speak').addEventListener('change', () => {
    save('speak', $('speak').checked ? 'on' : 'off');
    if (!$('speak').checked) $('player').pause();
  });
  $('settings').addEventListener('submit', (e) => e.preventDefault());
  $('ask-form').addEventListener('submit', ask);
  $('question').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('ask-form').requestSubmit();
    }
  });
  $('stop').addEventListener('click', () => {
    stopCurrent();
    $('stop').disabled = true;
    $('ask').disabled = false;
    setStatus('Stopped');
  });
  $('upload-form').addEventListener('submit', upload);
  loadModels(); loadVoices(); loadDocuments();
}

init();
