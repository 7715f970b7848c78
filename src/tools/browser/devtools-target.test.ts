import { describe, expect, it } from 'vitest';
import { devtoolsTargetPath, isDevtoolsTargetPath, rewriteDevtoolsAnswer } from './devtools-target.js';

const proxied = (path: string): string => `ws://127.0.0.1:4000/TOKEN${path}`;

describe('devtoolsTargetPath', () => {
  it('takes the path of a browser or page target and nothing else of the URL', () => {
    expect(devtoolsTargetPath('ws://127.0.0.1:9222/devtools/browser/0b5c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f2e')).toBe('/devtools/browser/0b5c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f2e');
    expect(devtoolsTargetPath('ws://169.254.169.254:80/devtools/page/ABCDEF0123')).toBe('/devtools/page/ABCDEF0123');
    expect(devtoolsTargetPath('wss://user:pw@10.0.0.1/devtools/browser/x?y=1#z')).toBe('/devtools/browser/x');
  });

  it('refuses anything that is not a target path', () => {
    for (const bad of [
      undefined,
      42,
      '',
      'http://127.0.0.1:9222/devtools/browser/x',
      'ws://127.0.0.1:9222/json/version',
      'ws://127.0.0.1:9222/devtools/browser/../../latest/meta-data',
      'ws://127.0.0.1:9222/devtools/browser/a/b',
      'ws://127.0.0.1:9222/devtools/browser/',
      'ws://127.0.0.1:9222/devtools/other/x',
      `ws://127.0.0.1:9222/devtools/browser/${'a'.repeat(129)}`,
      'not a url',
    ]) {
      expect(devtoolsTargetPath(bad), String(bad)).toBeUndefined();
    }
  });

  it('forwards only target paths as WebSocket upgrades', () => {
    expect(isDevtoolsTargetPath('/devtools/page/ABC')).toBe(true);
    expect(isDevtoolsTargetPath('/devtools/page/ABC?x')).toBe(false);
    expect(isDevtoolsTargetPath('/devtools/inspector.html')).toBe(false);
  });
});

describe('rewriteDevtoolsAnswer', () => {
  it('points a version answer at the proxy, whatever host it named', () => {
    const body = JSON.stringify({ Browser: 'Chrome/1', webSocketDebuggerUrl: 'ws://10.1.2.3:8080/devtools/browser/abc' });
    expect(JSON.parse(rewriteDevtoolsAnswer(body, proxied))).toEqual({ Browser: 'Chrome/1', webSocketDebuggerUrl: 'ws://127.0.0.1:4000/TOKEN/devtools/browser/abc' });
  });

  it('drops addresses it cannot rebuild from a target list, keeping the data', () => {
    const body = JSON.stringify([
      { id: 'P1', url: 'http://localhost:3000/', webSocketDebuggerUrl: 'ws://127.0.0.1:9222/devtools/page/P1', devtoolsFrontendUrl: 'https://evil.example/inspector', faviconUrl: 'http://169.254.169.254/' },
      { id: 'P2', webSocketDebuggerUrl: 'ws://127.0.0.1:9222/json/new?http://evil' },
    ]);
    expect(JSON.parse(rewriteDevtoolsAnswer(body, proxied))).toEqual([
      { id: 'P1', url: 'http://localhost:3000/', webSocketDebuggerUrl: 'ws://127.0.0.1:4000/TOKEN/devtools/page/P1' },
      { id: 'P2' },
    ]);
  });

  it('passes what holds no address unchanged', () => {
    expect(rewriteDevtoolsAnswer('{"domains":[]}', proxied)).toBe('{"domains":[]}');
    expect(rewriteDevtoolsAnswer('not json', proxied)).toBe('not json');
  });
});
