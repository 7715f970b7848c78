import { describe, expect, it } from 'vitest';
import { matchPath } from './api-route.js';

describe('matchPath', () => {
  it('matches literal segments and captures parameters, decoded', () => {
    expect(matchPath('/v1/sessions/:id/stop', '/v1/sessions/ses_1/stop')).toEqual({ id: 'ses_1' });
    expect(matchPath('/v1/keys/:provider', '/v1/keys/open%61i')).toEqual({ provider: 'openai' });
    expect(matchPath('/v1/sessions', '/v1/sessions')).toEqual({});
  });

  it('refuses other shapes, empty parameters and broken escapes', () => {
    expect(matchPath('/v1/sessions/:id', '/v1/sessions/')).toBeUndefined();
    expect(matchPath('/v1/sessions/:id', '/v1/sessions/a/b')).toBeUndefined();
    expect(matchPath('/v1/sessions/:id/stop', '/v1/sessions/a/start')).toBeUndefined();
    expect(matchPath('/v1/keys/:provider', '/v1/keys/%E0%A4%A')).toBeUndefined();
  });
});
