import { describe, expect, it } from 'vitest';
import { maskDatabaseUrl } from './mask-url.js';

describe('maskDatabaseUrl', () => {
  it('hides the password and nothing else', () => {
    expect(maskDatabaseUrl('postgres://nexora:s3cret@db.example:5432/nexora?sslmode=require')).toBe('postgres://nexora:***@db.example:5432/nexora?sslmode=require');
    expect(maskDatabaseUrl('postgres://nexora@localhost/nexora')).toBe('postgres://nexora@localhost/nexora');
    expect(maskDatabaseUrl('not a url with password hunter2')).not.toContain('hunter2');
  });
});
