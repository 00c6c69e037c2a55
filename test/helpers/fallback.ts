import type request from 'supertest';
import { expect } from 'vitest';

/** Shared by the Koa and Express middleware tests: the same behaviour is expected of both adapters. */
export const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const NO_STORE = 'private, no-store';
export const HTML = 'text/html; charset=utf-8';
export const PAGE_TEXT = 'too old to connect securely';

/** The test site's own response (it sets `x-app: yes` and answers 'the site'). */
export function expectAppResponse(response: request.Response): void {
  expect(response.status).toBe(200);
  expect(response.headers['x-app']).toBe('yes');
  expect(response.text).toBe('the site');
}

export function expectRedirect(response: request.Response, location = '/legacy-browser'): void {
  expect(response.status).toBe(302);
  expect(response.headers.location).toBe(location);
  expect(response.headers['cache-control']).toBe(NO_STORE);
  expect(response.headers['x-app']).toBeUndefined();
}
