// The npm openai package sending a JWT from an identity provider as its API key, unchanged.
//
// Run by src/test/java/dev/gatehouse/identify/jwt/JwtRealClientsTest.java, which starts a JWKS
// server and a gateway in front of a fake upstream and passes:
//   GATEHOUSE_URL          the gateway's base URL
//   GATEHOUSE_JWT          a valid token (RS256, right issuer and audience, inference scopes)
//   GATEHOUSE_EXPIRED_JWT  the same token, expired
//   GATEHOUSE_FORGED_JWT   an HS256 token "signed" with the provider's public key (RS/HS confusion)
//
// Keep in step with the Java side: refused calls name phi3:latest, allowed calls never do; the
// allowed calls make one /v1/chat/completions request each (two) and one /v1/models request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const BASE_URL = required('GATEHOUSE_URL');
const JWT = required('GATEHOUSE_JWT');
const EXPIRED = required('GATEHOUSE_EXPIRED_JWT');
const FORGED = required('GATEHOUSE_FORGED_JWT');
const REFUSED_MODEL = 'phi3:latest';
const hello = [{ role: 'user', content: 'Say hello' }];

function required(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is required`);
  }
  return v;
}

function openai(apiKey) {
  return new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

// A JWT as the API key: chat works exactly as with a Gatehouse key.
test('openai with a JWT: chat completion', async () => {
  const c = await openai(JWT).chat.completions.create({ model: 'llama3.2:3b', messages: hello });
  assert.equal(c.choices[0].message.content, 'Hello from the fake.');
});

// Streaming too.
test('openai with a JWT: streaming chat completion', async () => {
  const stream = await openai(JWT).chat.completions.create({ model: 'llama3.2:3b', messages: hello, stream: true });
  let text = '';
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(text.length > 0);
});

// models.list with the JWT's models.read scope.
test('openai with a JWT: models.list', async () => {
  const page = await openai(JWT).models.list();
  assert.ok(page.data.length > 0);
});

// An expired token and a forged one: the SDK's AuthenticationError, the same as a bad key.
test('openai with a refused JWT: AuthenticationError 401 auth.key_invalid', async () => {
  for (const bad of [EXPIRED, FORGED]) {
    await assert.rejects(openai(bad).chat.completions.create({ model: REFUSED_MODEL, messages: hello }), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'auth.key_invalid');
      return true;
    });
  }
});
