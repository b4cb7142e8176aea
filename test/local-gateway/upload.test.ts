import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID, INACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { buildZip, call, patToken, startHarness, uploadArchive, zipWithCli, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function project(name: string): Promise<string> {
  const reply = await call(h.origin, 'POST', '/api/v1/projects/', {
    token: pat,
    body: { name, repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true },
  });
  expect(reply.status).toBe(201);
  return reply.json.id as string;
}

const fields = (name: string): Record<string, string> => ({ project_name: name, region_id: ACTIVE_REGION_ID });

describe('POST /v1/upload/upload-only', () => {
  it('parks a real zip under dataDir/uploads/<uuid>.zip', async () => {
    const zip = await zipWithCli({ 'package.json': '{"name":"app"}', 'src/server.js': 'console.log(1)' });
    const reply = await uploadArchive(h.origin, pat, fields('parked'), { name: 'app.zip', data: zip });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ filename: 'app.zip', git_url: '', branch: '', is_git: false });
    expect(reply.json.temp_file_path).toMatch(new RegExp(`^${h.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/uploads/[0-9a-f-]{36}\\.zip$`));
    expect(await readFile(reply.json.temp_file_path)).toEqual(zip);
  });

  it('records the multipart field names in the request journal', async () => {
    await call(h.origin, 'POST', '/__local/requests/clear', { body: {} });
    const zip = await zipWithCli({ 'a.txt': 'a' });
    await uploadArchive(h.origin, pat, fields('journal'), { name: 'app.zip', data: zip });
    const log = await call(h.origin, 'GET', '/__local/requests');
    const entry = (log.json as Array<Record<string, unknown>>).find((r) => r['path'] === '/api/v1/upload/upload-only');
    expect(entry).toMatchObject({ method: 'POST', status: 200, has_auth: true, form_fields: ['project_name', 'region_id', 'project_file'] });
    expect(entry).not.toHaveProperty('json');
  });

  it('rejects gzip / tar archives with "only zip archives are supported"', async () => {
    const gz = zlib.gzipSync(Buffer.from('hello'));
    const reply = await uploadArchive(h.origin, pat, fields('targz'), { name: 'app.tar.gz', data: gz });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'only zip archives are supported' });
    const tar = Buffer.alloc(1024);
    tar.write('file.txt', 0);
    tar.write('ustar', 257);
    const tarReply = await uploadArchive(h.origin, pat, fields('tar'), { name: 'app.tar', data: tar });
    expect(tarReply.status).toBe(400);
    expect(tarReply.json).toEqual({ error: 'only zip archives are supported' });
    // Nothing is left behind for refused uploads.
    const parked = await readdir(path.join(h.dataDir, 'uploads'));
    const state = await call(h.origin, 'GET', '/__local/state');
    expect(parked.length).toBe((state.json.uploads as unknown[]).length);
  });

  it('accepts an empty zip (end-of-central-directory magic)', async () => {
    const reply = await uploadArchive(h.origin, pat, fields('emptyzip'), { name: 'empty.zip', data: buildZip([]) });
    expect(reply.status).toBe(200);
  });

  it('missing project_name → 400; inactive or unknown region → 400 invalid region; no file or git_url → 400', async () => {
    const zip = await zipWithCli({ 'a.txt': 'a' });
    const noName = await uploadArchive(h.origin, pat, { region_id: ACTIVE_REGION_ID }, { name: 'a.zip', data: zip });
    expect(noName.status).toBe(400);
    expect(noName.json.error).toContain('project_name');
    const inactive = await uploadArchive(h.origin, pat, { project_name: 'x', region_id: INACTIVE_REGION_ID }, { name: 'a.zip', data: zip });
    expect(inactive.status).toBe(400);
    expect(inactive.json).toEqual({ error: 'invalid region' });
    const noRegion = await uploadArchive(h.origin, pat, { project_name: 'x' }, { name: 'a.zip', data: zip });
    expect(noRegion.json).toEqual({ error: 'invalid region' });
    const nothing = await uploadArchive(h.origin, pat, fields('nothing'));
    expect(nothing.status).toBe(400);
  });

  it('git_url sources are parked without a file', async () => {
    const reply = await uploadArchive(h.origin, pat, { ...fields('gitsrc'), git_url: 'https://github.com/acme/app.git', branch: 'dev' });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ git_url: 'https://github.com/acme/app.git', branch: 'dev', is_git: true });
    expect(typeof reply.json.temp_file_path).toBe('string');
  });

  it('non-multipart bodies and missing auth are refused', async () => {
    const json = await call(h.origin, 'POST', '/api/v1/upload/upload-only', { token: pat, body: { project_name: 'x' } });
    expect(json.status).toBe(400);
    const anon = await call(h.origin, 'POST', '/api/v1/upload/upload-only', { rawBody: 'x', headers: { 'content-type': 'multipart/form-data; boundary=zz' } });
    expect(anon.status).toBe(401);
  });

  it('malformed multipart bodies are a 400 that says what is wrong, and nothing is parked', async () => {
    const b = 'odMalformed42';
    const post = (body: string) =>
      call(h.origin, 'POST', '/api/v1/upload/upload-only', { token: pat, rawBody: body, headers: { 'content-type': `multipart/form-data; boundary=${b}` } });
    const field = (name: string, value: string): string => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const good = field('project_name', 'x') + field('region_id', ACTIVE_REGION_ID);
    const before = await readdir(path.join(h.dataDir, 'uploads'));
    const answers = [
      await post(good), // no closing delimiter
      await post(`${good}--${b}--\r\n`.replace(/\r\n/g, '\n')), // LF-only line ends
      await post(`--${b}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${b}--\r\n`), // a part without a name
      await post(`${field('project_name', 'y'.repeat(70 * 1024))}--${b}--\r\n`), // a field over 64 KiB
      await post(`${Array.from({ length: 65 }, (_, i) => field(`f${i}`, 'v')).join('')}--${b}--\r\n`), // over 64 parts
      // A part that is not form-data is skipped: the route names the field it then lacks.
      await post(`${field('project_name', 'x').replace('form-data;', 'attachment;')}${field('region_id', ACTIVE_REGION_ID)}--${b}--\r\n`),
    ];
    expect(answers.map((a) => [a.status, a.json])).toEqual([
      [400, { error: 'malformed multipart body: unexpected end of body' }],
      [400, { error: 'malformed multipart body: unexpected end of body' }],
      [400, { error: 'malformed multipart body: part without a name' }],
      [413, { error: 'field "project_name" is too large' }],
      [400, { error: 'too many multipart parts' }],
      [400, { error: 'project_name is required' }],
    ]);
    expect(await readdir(path.join(h.dataDir, 'uploads'))).toEqual(before);
  });

  it('streams a large archive to disk (8 MiB)', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const zip = buildZip([{ name: 'blob.bin', data: big, method: 8 }, { name: 'noise.bin', data: randomBytes(3 * 1024 * 1024) }]);
    const reply = await uploadArchive(h.origin, pat, fields('big'), { name: 'big.zip', data: zip });
    expect(reply.status).toBe(200);
    expect((await stat(reply.json.temp_file_path)).size).toBe(zip.length);
  });
});

describe('POST /v1/upload/update-source', () => {
  it('copies to projects/<pid>/<uuid>/source.zip, extracts next to it, binds the project', async () => {
    const pid = await project('bound-src');
    const zip = await zipWithCli({ 'package.json': '{"name":"app"}', 'src/server.js': 'require("http")', 'bin/run.sh': '#!/bin/sh\n' });
    const up = await uploadArchive(h.origin, pat, fields('bound-src'), { name: 'app.zip', data: zip });
    const analysis = { language: 'node', port: 3000 };
    const reply = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: up.json.temp_file_path, analysis } });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ project_id: pid, source_status: 'ready', services: [], message: 'Project source updated successfully' });
    const sourcePath = reply.json.source_path as string;
    expect(sourcePath).toMatch(new RegExp(`/projects/${pid}/[0-9a-f-]{36}/source$`));
    expect(await readFile(path.join(sourcePath, 'src/server.js'), 'utf8')).toBe('require("http")');
    expect(await readFile(path.join(sourcePath, 'package.json'), 'utf8')).toBe('{"name":"app"}');
    expect(await readFile(path.join(path.dirname(sourcePath), 'source.zip'))).toEqual(zip);

    const detail = await call(h.origin, 'GET', `/api/v1/projects/${pid}`, { token: pat });
    expect(detail.json).toMatchObject({ source_path: sourcePath, source_status: 'ready', analyze_config: analysis, original_file_size: zip.length });
    // The temp file is copied, not moved: a retry of update-source still works.
    expect((await stat(up.json.temp_file_path)).isFile()).toBe(true);
  });

  it('unknown / never-uploaded temp path → 400 "Uploaded file not found or expired"', async () => {
    const pid = await project('expired');
    for (const temp of ['/tmp/does-not-exist.zip', path.join(h.dataDir, 'state.json')]) {
      const reply = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: temp } });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({ error: 'Uploaded file not found or expired, please upload again' });
    }
  });

  it('missing fields and unknown project', async () => {
    expect((await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { temp_file_path: 'x' } })).status).toBe(400);
    const noTemp = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: await project('notemp') } });
    expect(noTemp.status).toBe(400);
    const unknown = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: 'nope', temp_file_path: 'x' } });
    expect(unknown.status).toBe(404);
  });

  it.each([
    ['zip-slip', [{ name: 'ok.txt', data: 'ok' }, { name: '../../escape.txt', data: 'pwned' }]],
    ['nested zip-slip', [{ name: 'a/../../escape.txt', data: 'pwned' }]],
    ['absolute path', [{ name: '/tmp/abs-escape.txt', data: 'pwned' }]],
    ['windows drive path', [{ name: 'C:/escape.txt', data: 'pwned' }]],
    ['symlink', [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]],
  ])('%s archives → 422 and nothing escapes', async (_label, entries) => {
    const pid = await project(`hostile-${Math.random().toString(36).slice(2, 8)}`);
    const up = await uploadArchive(h.origin, pat, fields('hostile'), { name: 'evil.zip', data: buildZip(entries as never) });
    expect(up.status).toBe(200);
    const reply = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: up.json.temp_file_path } });
    expect(reply.status).toBe(422);
    expect(reply.json.error).toBe('archive could not be extracted');
    expect(typeof reply.json.extraction_error).toBe('string');
    // Neither the sibling directories nor the data folder received the escaped file.
    await expect(stat(path.join(h.dataDir, 'projects', 'escape.txt'))).rejects.toThrow();
    await expect(stat(path.join(h.dataDir, 'projects', pid, 'escape.txt'))).rejects.toThrow();
    await expect(stat(path.join(h.dataDir, 'escape.txt'))).rejects.toThrow();
    // The half-extracted version directory was removed; the project stays unbound.
    expect(await readdir(path.join(h.dataDir, 'projects', pid))).toEqual([]);
    const detail = await call(h.origin, 'GET', `/api/v1/projects/${pid}`, { token: pat });
    expect(detail.json).toMatchObject({ source_path: '', source_status: 'failed' });
  });

  it('a corrupt zip (right magic, broken body) → 422', async () => {
    const pid = await project('corrupt');
    const data = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 1)]);
    const up = await uploadArchive(h.origin, pat, fields('corrupt'), { name: 'c.zip', data });
    const reply = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: up.json.temp_file_path } });
    expect(reply.status).toBe(422);
  });
});
