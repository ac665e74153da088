// The official `openai` npm client against a running `xnai serve` (started by run.sh with the
// tiny test models): chat whole and streamed, embeddings (the client's default base64 and
// plain floats), speech, the model list and the error types the client raises.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');

const baseURL = process.env.XNAI_URL + '/v1';
const apiKey = process.env.XNAI_API_KEY;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

let models;  // kind -> id, from /v1/models
test.before(async () => {
  const list = await client.models.list();
  models = Object.fromEntries(list.data.map((m) => [m.kind, m.id]));
});

test('models.list names the LLM, the embedder and the speech engine', () => {
  assert.equal(models.llm, 'tiny-llama-spm-q8_0');
  assert.ok(models.embedding, 'an embedding model is listed');
  assert.ok(models.tts, 'a speech model is listed');
});

const question = [{ role: 'user', content: 'Tell me about the lighthouse.' }];

test('chat.completions.create answers whole', async () => {
  const r = await client.chat.completions.create({ model: models.llm, messages: question, max_tokens: 12, temperature: 0, seed: 7 });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason), r.choices[0].finish_reason);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12, String(r.usage.completion_tokens));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat.completions.create streams the same text, chunk by chunk', async () => {
  const args = { model: models.llm, messages: question, max_tokens: 12, temperature: 0, seed: 7 };
  const whole = await client.chat.completions.create(args);
  const stream = await client.chat.completions.create({ ...args, stream: true });
  let text = '', chunks = 0, finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
    chunks++;
  }
  assert.ok(chunks >= 2, `${chunks} chunks`);
  assert.ok(['stop', 'length'].includes(finish), String(finish));
  assert.equal(text, whole.choices[0].message.content, 'greedy decoding streams what it answers whole');
});

test('embeddings.create: base64 (the client default) and float agree', async () => {
  const input = ['The keeper feeds the cat.', 'Ships pass the rocks at night.'];
  const b64 = await client.embeddings.create({ model: models.embedding, input });
  const flt = await client.embeddings.create({ model: models.embedding, input, encoding_format: 'float' });
  for (const r of [b64, flt]) {
    assert.equal(r.object, 'list');
    assert.equal(r.data.length, 2);
    assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
    assert.ok(r.usage.prompt_tokens > 0);
  }
  const dim = flt.data[0].embedding.length;
  assert.ok(dim > 0);
  for (let i = 0; i < 2; i++) {
    const a = b64.data[i].embedding, b = flt.data[i].embedding;
    assert.equal(a.length, dim);
    assert.ok(a.every(Number.isFinite));
    for (let j = 0; j < dim; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-6, `component ${j}`);
  }
  const [x, y] = flt.data.map((d) => d.embedding);
  assert.notDeepEqual(x, y, 'different sentences embed differently');
});

test('audio.speech.create returns playable wav and mp3', async () => {
  const input = 'Hello there. The lamp is lit.';
  const wav = Buffer.from(await (await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' })).arrayBuffer());
  assert.equal(wav.subarray(0, 4).toString('latin1'), 'RIFF');
  assert.equal(wav.subarray(8, 12).toString('latin1'), 'WAVE');
  const rate = wav.readUInt32LE(24), bits = wav.readUInt16LE(34);
  assert.ok(rate >= 16000, `sample rate ${rate}`);
  const seconds = (wav.length - 44) / (rate * bits / 8);
  assert.ok(seconds > 0.5 && seconds < 10, `${seconds} s of speech`);

  const mp3Res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'mp3' });
  assert.equal(mp3Res.headers.get('content-type'), 'audio/mpeg');
  const mp3 = Buffer.from(await mp3Res.arrayBuffer());
  const id3 = mp3.subarray(0, 3).toString('latin1') === 'ID3';
  const frameSync = mp3[0] === 0xff && (mp3[1] & 0xe0) === 0xe0;
  assert.ok(id3 || frameSync, 'starts with an ID3 tag or an MPEG frame');
  assert.ok(mp3.length > 1000, `${mp3.length} bytes`);
});

test('bad requests raise the client\'s typed errors, naming the field', async () => {
  await assert.rejects(client.chat.completions.create({ model: models.llm, messages: 'hello' }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
    assert.equal(e.status, 400);
    assert.equal(e.param, 'messages');
    return true;
  });
  await assert.rejects(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'aiff' }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format');
  const stranger = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
  await assert.rejects(stranger.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});
