/**
 * Proxy settings as people write them in a core `http proxy` node or in the environment: stray
 * spaces, several hosts not to proxy, a user without a password, a URL that cannot be parsed.
 * The rules themselves (Node-RED's) are in proxy.test.ts; these are the settings around them.
 */
import assert from 'node:assert/strict';
import { isLoopback, proxyFor } from '../../src/mcm/proxy';

const route = (url: string, option?: Parameters<typeof proxyFor>[1], env: NodeJS.ProcessEnv = {}) =>
  proxyFor(new URL(url), option, env)?.url.href;

describe('proxy settings', () => {
  it('goes direct for every host of a proxy node’s list, not only the first', () => {
    const option = { url: 'http://cfg:2', noProxy: ['cam-1.local', 'cam-2.local'] };
    assert.equal(route('http://cam-1.local', option), undefined);
    assert.equal(route('http://cam-2.local', option), undefined);
    assert.equal(route('http://cam-3.local', option), 'http://cfg:2/');
  });

  it('takes a proxy variable of blanks for none, and trims a proxy given without a scheme', () => {
    assert.equal(route('http://dev', undefined, { http_proxy: '   ' }), undefined);
    assert.equal(route('http://dev', undefined, { http_proxy: ' proxy.local:3128 ' }), 'http://proxy.local:3128/');
  });

  it('sends a user without a password to the proxy', () => {
    const withUser = proxyFor(new URL('http://dev'), { url: 'http://p:1', username: 'me' });
    assert.equal(withUser?.authorization, `Basic ${Buffer.from('me:').toString('base64')}`);
  });

  it('matches a no_proxy host name whole: "dev" is not "mydev"', () => {
    const env = { http_proxy: 'http://p:1', no_proxy: 'dev' };
    assert.equal(route('http://mydev', undefined, env), 'http://p:1/');
    assert.equal(route('http://dev', undefined, env), undefined);
  });

  it('proxies an IPv6 address that only ends like a mapped loopback one', () => {
    assert.equal(isLoopback(new URL('http://[2001:db8::ffff:7f00:1]').hostname), false);
    assert.equal(isLoopback(new URL('http://[::ffff:7f00:1]').hostname), true);
  });

  it('refuses a proxy URL it cannot parse, naming it without its credentials', () => {
    assert.throws(
      () => proxyFor(new URL('http://dev'), { url: 'http://me:s3cret@bad host:1' }),
      (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.equal(err.message, 'the proxy URL "http://bad host:1" is not a valid URL');
        return true;
      },
    );
  });
});
