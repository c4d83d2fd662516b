// Real npm client libraries (openai, ollama) against a running Gatehouse.
//
// Run by src/test/java/dev/gatehouse/clients/NodeClientsTest.java, which starts a gateway in front
// of a fake upstream and passes:
//   GATEHOUSE_URL          the gateway's base URL, e.g. http://127.0.0.1:41234
//   GATEHOUSE_KEY          a key with the ordinary scopes and no model limit
//   GATEHOUSE_LIMITED_KEY  a key limited to the models "qwen*"
//
// The Java side checks what reached the upstream, so keep these rules when editing:
//   - tests run in order, one at a time (node:test's default within a file);
//   - every refused call names the model phi3:latest and nothing that succeeds does;
//   - a change in how many calls succeed, per path, must be mirrored in NodeClientsTest.EXPECTED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const BASE_URL = required('GATEHOUSE_URL');
const KEY = required('GATEHOUSE_KEY');
const LIMITED_KEY = required('GATEHOUSE_LIMITED_KEY');
/** Never sent to a model server: refused calls name it, so the Java side can look for it upstream. */
const REFUSED_MODEL = 'phi3:latest';
const ALL_MODELS = ['llama3.2:3b', 'qwen2.5:7b', 'phi3:latest', 'gpt-oss:120b-cloud'];
const STREAMED = 'tok0 tok1 tok2 tok3 tok4 ';

function required(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is required`);
  }
  return v;
}

/** A well-formed key with a real id and a wrong secret. */
function tampered(key) {
  return key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
}

function openai(apiKey) {
  // No retries: a refusal must be exactly one request, and 401/403 are final anyway.
  return new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

function ollama(key) {
  return new Ollama({ host: BASE_URL, headers: key === null ? {} : { Authorization: 'Bearer ' + key } });
}

const hello = [{ role: 'user', content: 'Say hello' }];

// ---- openai ----

// The basic promise: the official SDK's chat call with a valid key gets the model's answer.
test('openai: chat completion, non-streaming', async () => {
  const c = await openai(KEY).chat.completions.create({ model: 'llama3.2:3b', messages: hello });
  assert.equal(c.choices.length, 1);
  assert.equal(c.choices[0].message.content, 'Hello from the fake.');
});

// SSE relayed by the gateway must reach the SDK as several chunks that add up to the whole answer.
test('openai: chat completion, streaming, arrives in several chunks', async () => {
  const stream = await openai(KEY).chat.completions.create({ model: 'llama3.2:3b', messages: hello, stream: true });
  const parts = [];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      if (choice.delta?.content) {
        parts.push(choice.delta.content);
      }
    }
  }
  assert.ok(parts.length >= 5, `expected at least 5 content chunks, got ${JSON.stringify(parts)}`);
  assert.equal(parts.join(''), STREAMED);
});

// models.list() parses the gateway's /v1/models; an unrestricted key sees every model.
test('openai: models.list shows every model', async () => {
  const ids = [];
  for await (const m of openai(KEY).models.list()) {
    ids.push(m.id);
  }
  assert.deepEqual(ids.sort(), [...ALL_MODELS].sort());
});

// Wrong keys must surface as the SDK's AuthenticationError (401), streaming or not.
test('openai: bad key raises AuthenticationError 401', async () => {
  for (const bad of [tampered(KEY), 'sk-not-a-gatehouse-key']) {
    const client = openai(bad);
    await assert.rejects(client.chat.completions.create({ model: REFUSED_MODEL, messages: hello }), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'auth.key_invalid');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: REFUSED_MODEL, messages: hello, stream: true }), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.status, 401);
      return true;
    });
    await assert.rejects(client.models.list(), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.status, 401);
      return true;
    });
  }
});

// A key limited to qwen* never learns that other models exist.
test('openai: qwen-limited key lists only qwen2.5:7b', async () => {
  const page = await openai(LIMITED_KEY).models.list();
  assert.deepEqual(page.data.map((m) => m.id), ['qwen2.5:7b']);
});

// A key limited to qwen* gets the SDK's PermissionDeniedError (403) for any other model.
test('openai: qwen-limited key raises PermissionDeniedError 403 for another model', async () => {
  const client = openai(LIMITED_KEY);
  for (const stream of [false, true]) {
    await assert.rejects(client.chat.completions.create({ model: REFUSED_MODEL, messages: hello, stream }), (e) => {
      assert.ok(e instanceof OpenAI.PermissionDeniedError, `expected PermissionDeniedError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.status, 403);
      assert.equal(e.code, 'policy.model_denied');
      return true;
    });
  }
});

// ---- ollama ----

// ollama-js list() (GET /api/tags) parses the gateway's answer.
test('ollama: list shows every model', async () => {
  const r = await ollama(KEY).list();
  assert.deepEqual(r.models.map((m) => m.name).sort(), [...ALL_MODELS].sort());
});

// Non-streaming chat returns the whole answer.
test('ollama: chat, non-streaming', async () => {
  const r = await ollama(KEY).chat({ model: 'llama3.2:3b', messages: hello, stream: false });
  assert.equal(r.message.content, 'Hello from the fake.');
});

// NDJSON relayed by the gateway reaches ollama-js as several parts.
test('ollama: chat, streaming, arrives in several parts', async () => {
  const stream = await ollama(KEY).chat({ model: 'llama3.2:3b', messages: hello, stream: true });
  const parts = [];
  let done = false;
  for await (const part of stream) {
    if (part.message?.content) {
      parts.push(part.message.content);
    }
    done = done || part.done;
  }
  assert.ok(parts.length >= 5, `expected at least 5 parts, got ${JSON.stringify(parts)}`);
  assert.equal(parts.join(''), STREAMED);
  assert.ok(done, 'the last part says done');
});

// A wrong or missing key fails every ollama-js call with a ResponseError whose status is 401.
test('ollama: bad or missing key fails with status 401', async () => {
  const is401 = (e) => {
    assert.equal(e?.name, 'ResponseError', `expected ResponseError, got ${e}`);
    assert.equal(e.status_code, 401);
    assert.match(e.error, /invalid API key/);
    return true;
  };
  for (const bad of [tampered(KEY), 'not-a-gatehouse-key', null]) {
    const client = ollama(bad);
    await assert.rejects(client.list(), is401);
    await assert.rejects(client.chat({ model: REFUSED_MODEL, messages: hello, stream: false }), is401);
    await assert.rejects(client.chat({ model: REFUSED_MODEL, messages: hello, stream: true }), is401);
  }
});

// A key limited to qwen* sees only qwen2.5:7b in list().
test('ollama: qwen-limited key lists only qwen2.5:7b', async () => {
  const r = await ollama(LIMITED_KEY).list();
  assert.deepEqual(r.models.map((m) => m.name), ['qwen2.5:7b']);
});

// A key limited to qwen* is refused (403) another model, streaming or not.
test('ollama: qwen-limited key fails with status 403 for another model', async () => {
  const client = ollama(LIMITED_KEY);
  for (const stream of [false, true]) {
    await assert.rejects(client.chat({ model: REFUSED_MODEL, messages: hello, stream }), (e) => {
      assert.equal(e?.name, 'ResponseError', `expected ResponseError, got ${e}`);
      assert.equal(e.status_code, 403);
      return true;
    });
  }
});
