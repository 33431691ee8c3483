import { statusText } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('statusText', () => {
  it('gives the RFC 9110 reason phrase of known statuses', () => {
    expect(statusText(400)).toBe('Bad Request');
    expect(statusText(404)).toBe('Not Found');
    expect(statusText(413)).toBe('Content Too Large');
    expect(statusText(422)).toBe('Unprocessable Content');
    expect(statusText(429)).toBe('Too Many Requests');
    expect(statusText(499)).toBe('Client Closed Request');
    expect(statusText(500)).toBe('Internal Server Error');
    expect(statusText(503)).toBe('Service Unavailable');
  });

  it('falls back to the class of an unknown status', () => {
    expect(statusText(418)).toBe('Client Error');
    expect(statusText(599)).toBe('Server Error');
    expect(statusText(299)).toBe('Success');
    expect(statusText(399)).toBe('Redirection');
    expect(statusText(199)).toBe('Informational');
    expect(statusText(42)).toBe('Unknown Status');
    expect(statusText(700)).toBe('Unknown Status');
  });

  it('names success and redirect statuses too', () => {
    expect(statusText(201)).toBe('Created');
    expect(statusText(204)).toBe('No Content');
    expect(statusText(304)).toBe('Not Modified');
  });
});
