// The web page at / in headless Chromium (playwright-core driving the system chromium),
// against a running `xnai serve` that requires an API key: the page loads without one,
// takes the key, uploads a .txt, asks, the answer streams in with a source naming the file,
// clicking the source shows the cited text, the answer is spoken, and the screenshot is not
// blank. Also the asset serving itself: types, cache headers, 304s, no key needed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const url = process.env.XNAI_URL;
const apiKey = process.env.XNAI_API_KEY;
const shotDir = process.env.XNAI_SHOT_DIR || '.';

const doc = [
  'The Lighthouse at Gull Point',
  '',
  'The lighthouse keeper is named Marta Quill. She keeps a grey cat called Pepper in the lamp room.',
  'The lamp was converted to electric light in 1931 and can be seen from twenty nautical miles.',
  'Every Sunday Marta writes the weather into a green logbook.',
].join('\n');

test('the page and its files are served with types and cache headers, without a key', async () => {
  for (const [p, type] of [['/', 'text/html'], ['/index.html', 'text/html'], ['/app.js', 'text/javascript'], ['/app.css', 'text/css']]) {
    const r = await fetch(url + p);
    assert.equal(r.status, 200, p);
    assert.ok(r.headers.get('content-type').startsWith(type + '; charset=utf-8'), `${p}: ${r.headers.get('content-type')}`);
    assert.equal(r.headers.get('cache-control'), 'no-cache', p);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{20}"$/, p);
    assert.ok((await r.text()).length > 100, p);
    const again = await fetch(url + p, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304, p + ' revalidates');
    assert.equal(await again.text(), '');
  }
  const page = await fetch(url + '/');
  assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  const missing = await fetch(url + '/nope.js');
  assert.equal(missing.status, 401, 'other paths still need the key');
  const voices = await fetch(url + '/v1/audio/voices', { headers: { Authorization: 'Bearer ' + apiKey } });
  assert.equal(voices.status, 200);
  const v = await voices.json();
  assert.equal(v.object, 'list');
  assert.ok(v.data.length > 0 && v.data.every((x) => typeof x.id === 'string' && x.language));
  assert.ok(v.data.some((x) => x.id === v.default), 'the default voice is listed');
  assert.equal((await fetch(url + '/v1/audio/voices')).status, 401);
});

async function launch(t) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--autoplay-policy=no-user-gesture-required'],
  });
  t.after(() => browser.close());
  return browser;
}

// Opens the page of the server at `base`, watching for script errors and speech requests.
async function openPage(browser, base) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const watch = { problems: [], speech: [] };
  page.on('pageerror', (e) => watch.problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) watch.problems.push('console: ' + m.text()); });
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/audio/speech')) watch.speech.push({ input: JSON.parse(r.postData()).input });
  });
  page.on('response', (r) => {
    if (!r.url().endsWith('/v1/audio/speech')) return;
    const s = watch.speech.find((x) => x.input === JSON.parse(r.request().postData()).input && !x.status);
    if (s) Object.assign(s, { status: r.status(), type: r.headers()['content-type'] });
  });
  await page.goto(base + '/');
  return { page, watch };
}

async function enterKeyAndUpload(page) {
  await page.fill('#api-key', apiKey);
  await page.dispatchEvent('#api-key', 'change');
  await page.waitForFunction(() => document.querySelectorAll('#voice option').length > 0 && !document.querySelector('#voice').disabled);
  await page.waitForSelector('#documents li.muted');  // the empty store says so
  await page.setInputFiles('#file', { name: 'lighthouse.txt', mimeType: 'text/plain', buffer: Buffer.from(doc) });
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#documents').textContent.includes('lighthouse.txt'));
  assert.match(await page.textContent('#status'), /Added: lighthouse\.txt \(\d+ chunks\)/);
}

test('ask your documents in the browser: upload, streamed answer, sources, speech', { timeout: 240_000 }, async (t) => {
  const browser = await launch(t);
  const { page, watch } = await openPage(browser, url);
  const { speech, problems } = watch;
  await assert.doesNotReject(page.waitForSelector('#documents li.error', { timeout: 10_000 }), 'without a key the list says why');
  assert.match(await page.textContent('#documents'), /API key/);
  await enterKeyAndUpload(page);
  assert.equal(await page.inputValue('#model'), 'tiny-llama-spm-q8_0');

  await page.fill('#question', 'What is the name of the lighthouse keeper and her cat?');
  await page.press('#question', 'Enter');
  await page.waitForFunction(() => document.querySelector('#answer').textContent.trim().length > 0);
  await page.waitForSelector('#sources a.source', { timeout: 120_000 });
  const sources = await page.$$eval('#sources a.source', (as) => as.map((a) => a.textContent));
  assert.ok(sources.length >= 1);
  assert.match(sources[0], /^\[1\] lighthouse\.txt/);
  assert.equal(await page.$eval('#status', (s) => s.classList.contains('error')), false, await page.textContent('#status'));

  assert.equal(await page.isVisible('#cited'), false);
  await page.click('#sources a.source >> nth=0');
  await page.waitForSelector('#cited', { state: 'visible' });
  assert.match(await page.textContent('#cited-title'), /^\[1\] lighthouse\.txt/);
  assert.match(await page.textContent('#cited-text'), /Marta Quill/);

  // Spoken sentence by sentence: each one fetched as audio and played to its end.
  await page.waitForFunction(() => Number(document.querySelector('#speech-status').dataset.spoken || 0) >= 1,
    null, { timeout: 120_000 });
  assert.ok(speech.length >= 1, 'the page asked for speech');
  assert.ok(speech.every((s) => s.status === 200 && s.type === 'audio/mpeg'), JSON.stringify(speech));
  assert.match(await page.textContent('#speech-status'), /^Spoken \d+ of \d+ sentences?$/);

  fs.mkdirSync(shotDir, { recursive: true });
  const shotPath = path.join(shotDir, 'web-page.png');
  const shot = await page.screenshot({ path: shotPath, fullPage: true });
  const stats = await imageStats(browser, shot);
  assert.ok(stats.width >= 1200 && stats.height >= 600, `${stats.width}x${stats.height}`);
  assert.ok(stats.colors > 50, `${stats.colors} distinct colours: the page rendered text and controls`);
  assert.ok(stats.inkFraction > 0.01 && stats.inkFraction < 0.9, `ink ${stats.inkFraction}`);
  assert.deepEqual(problems, []);
});

test('without an LLM: a quoted answer with linked markers, spoken sentence by sentence in order', { timeout: 240_000 }, async (t) => {
  const browser = await launch(t);
  const { page, watch } = await openPage(browser, process.env.XNAI_URL_EXTRACTIVE);
  await enterKeyAndUpload(page);
  assert.equal(await page.textContent('#model option'), 'none (extractive answers)');

  await page.fill('#question', 'What do we know about Marta?');
  await page.click('#ask');
  await page.waitForSelector('#sources a.source', { timeout: 120_000 });
  await page.waitForFunction(() => !document.querySelector('#ask').disabled);  // the stream has ended
  const answer = await page.textContent('#answer');
  assert.match(answer, /named Marta Quill\./);      // both sentences that name her, quoted
  assert.match(answer, /Marta writes the weather/);

  // The finished answer's [n] markers link to the sources.
  const refs = await page.$$eval('#answer a.ref', (as) => as.map((a) => a.textContent));
  assert.ok(refs.length >= 1 && refs.every((r) => r === '[1]'), JSON.stringify(refs));
  await page.click('#answer a.ref >> nth=0');
  await page.waitForSelector('#cited', { state: 'visible' });
  assert.match(await page.textContent('#cited-text'), /grey cat called Pepper/);  // the whole cited passage

  // Every sentence spoken, one request each, in the answer's order, each played to its end.
  await page.waitForFunction(() => {
    const s = document.querySelector('#speech-status');
    return /^Spoken (\d+) of \1 sentences?$/.test(s.textContent);
  }, null, { timeout: 120_000 });
  const spoken = watch.speech.map((s) => s.input);
  assert.ok(spoken.length >= 2, `several sentences: ${JSON.stringify(spoken)}`);
  assert.ok(watch.speech.every((s) => s.status === 200 && s.type === 'audio/mpeg'), JSON.stringify(watch.speech));
  const plain = answer.replace(/\s*\[\d+\]/g, '');
  let at = 0;
  for (const sentence of spoken) {
    assert.doesNotMatch(sentence, /\[\d+\]/, 'markers are not read out');
    const found = plain.indexOf(sentence, at);
    assert.ok(found >= at, `"${sentence}" follows the previous sentence in the answer`);
    at = found + sentence.length;
  }
  assert.equal(Number(await page.getAttribute('#speech-status', 'data-spoken')), spoken.length);

  // Removing the document empties the list (and the store: the next question finds nothing).
  await page.click('#documents button[aria-label="Remove lighthouse.txt"]');
  await page.waitForSelector('#documents li.muted');
  assert.match(await page.textContent('#status'), /Removed lighthouse\.txt/);
  await page.click('#ask');
  await page.waitForFunction(() => /No matching passages/.test(document.querySelector('#status').textContent));
  assert.equal(await page.$$eval('#sources li', (li) => li.length), 0);
  assert.deepEqual(watch.problems, []);
});

// Decodes a PNG in a blank page (the browser is the PNG decoder) and measures it: size,
// distinct colours, and the share of pixels that differ from the top-left (background) one.
async function imageStats(browser, png) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      const colors = new Set();
      let ink = 0;
      for (let i = 0; i < px.length; i += 4) {
        colors.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
        if (Math.abs(px[i] - px[0]) + Math.abs(px[i + 1] - px[1]) + Math.abs(px[i + 2] - px[2]) > 48) ink++;
      }
      return { width: img.width, height: img.height, colors: colors.size, inkFraction: ink / (px.length / 4) };
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}
