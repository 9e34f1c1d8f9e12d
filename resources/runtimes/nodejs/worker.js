// Dispatch Console — nodejs worker shim.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Loads one Dispatch nodejs handler (a file relative to the function dir whose module.exports is
// `function (context, payload)`, or an object with such a `handle` method) and serves invocations over fds 3
// (requests) and 4 (replies), as described in ../PROTOCOL.md. Started by the server as:
//   node <runtimes>/nodejs/worker.js      (cwd = function dir; env DISPATCH_FUNCTION_DIR, DISPATCH_HANDLER)
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');

const REQ_FD = 3;
const REP_FD = 4;
const MAX_FRAME = 64 * 1024 * 1024;
const MAX_LINES = 1000;
const MAX_LINE_BYTES = 8192;
// Handlers see a process.exit that throws (see main); the worker itself exits through this one.
const exitWorker = process.exit.bind(process);

// What one stream captured during the invocation in flight: at most the lines the protocol returns, cut while
// writing so that a chatty handler cannot grow the worker's memory without bound.
class Capture {
  constructor() { this.reset(); }

  reset() {
    this.lines = [];
    this.cur = '';
    this.curDropped = 0;
    this.curOpen = false; // the current line has text, even if none of it was kept
    this.extraLines = 0;
  }

  write(text) {
    const parts = text.split('\n');
    this.add(parts[0]);
    for (let i = 1; i < parts.length; i++) {
      this.endLine();
      this.add(parts[i]);
    }
  }

  add(text) {
    if (!text) return;
    this.curOpen = true;
    if (this.lines.length >= MAX_LINES) return;
    // A UTF-16 unit is at least one UTF-8 byte: keeping MAX_LINE_BYTES units is enough; endLine cuts exactly.
    const room = MAX_LINE_BYTES - this.cur.length;
    if (text.length > room) {
      this.curDropped += Buffer.byteLength(text.slice(room));
      text = text.slice(0, room);
    }
    this.cur += text;
  }

  endLine() {
    if (this.lines.length >= MAX_LINES) {
      this.extraLines++;
    } else {
      let line = this.cur;
      let dropped = this.curDropped;
      if (line.length * 3 > MAX_LINE_BYTES) {
        const bytes = Buffer.from(line);
        if (bytes.length > MAX_LINE_BYTES) {
          let end = MAX_LINE_BYTES;
          while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
          line = bytes.toString('utf8', 0, end);
          dropped += bytes.length - end;
        }
      }
      if (!dropped && line.endsWith('\r')) line = line.slice(0, -1);
      if (dropped) line += ` [line truncated: ${dropped} more bytes]`;
      this.lines.push(line);
    }
    this.cur = '';
    this.curDropped = 0;
    this.curOpen = false;
  }

  take() {
    if (this.curOpen) this.endLine();
    const lines = this.lines;
    if (this.extraLines) lines.push(`[truncated: ${this.extraLines} more lines]`);
    this.reset();
    return lines;
  }
}

const captured = { stdout: new Capture(), stderr: new Capture() };
let current = null; // the invocation in flight; output is captured only while there is one

// console.* and most libraries end up in stream.write. The wrapper is installed once, before the handler is
// loaded, so that references the handler keeps to process.stdout.write still get captured.
function interceptWrites(stream, capture) {
  const realWrite = stream.write.bind(stream);
  stream.write = function write(chunk, encoding, callback) {
    if (current === null) return realWrite(chunk, encoding, callback);
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (typeof chunk === 'string') {
      capture.write(encoding && !/^utf-?8$/i.test(encoding) ? Buffer.from(chunk, encoding).toString() : chunk);
    } else {
      capture.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString());
    }
    if (typeof callback === 'function') process.nextTick(callback, null);
    return true;
  };
}

class LoadError extends Error {
  constructor(message, { file, line, stacktrace } = {}) {
    super(message);
    Object.assign(this, { file, line, stacktrace: stacktrace || [] });
  }
}

function relativeInside(fdir, file) {
  const rel = path.relative(fdir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : null;
}

function firstLine(text) {
  return String(text).split('\n')[0];
}

// Stack lines of the user's code: frames of this shim and of node's module loader mean nothing to the user.
function userStack(stack) {
  return String(stack || '').split('\n').filter((l) => !/^\s+at .*(\(node:|\bnode:internal|\[eval\])/.test(l)
    && !l.includes(__filename));
}

function describeLoadFailure(err, fdir, handler) {
  const stack = String((err && err.stack) || err);
  const lines = stack.split('\n');
  // For a parse error node puts "file:line" on the first line, then the code and a caret (a SyntaxError thrown
  // while running the module, e.g. by JSON.parse, has a normal stack and is handled below).
  const parse = err instanceof SyntaxError && /^(\/.*):(\d+)$/.exec(lines[0]);
  if (parse) {
    const file = relativeInside(fdir, parse[1]);
    const line = Number(parse[2]);
    const atIndex = lines.findIndex((l) => /^\s+at /.test(l));
    return new LoadError(`${file || parse[1]}:${line}: SyntaxError: ${err.message}`,
      { file, line: file ? line : null, stacktrace: atIndex < 0 ? lines : lines.slice(0, atIndex) });
  }
  let file = null;
  let line = null;
  for (const l of lines) {
    const m = /^\s+at (?:.*\()?(\/.*):(\d+):\d+\)?$/.exec(l);
    const rel = m && relativeInside(fdir, m[1]);
    if (rel) {
      [file, line] = [rel, Number(m[2])];
      break; // the innermost frame inside the function source
    }
  }
  const where = file ? `${file}:${line}: ` : '';
  const what = err instanceof Error ? `${err.name}: ${firstLine(err.message)}` : firstLine(err);
  return new LoadError(`${where}error while loading handler file '${handler}': ${what}`,
    { file, line, stacktrace: userStack(stack) });
}

function loadHandler(fdir, handler) {
  if (!handler) throw new LoadError('no handler given: name the handler file, e.g. ./hello.js');
  const target = path.resolve(fdir, handler);
  let resolved;
  try {
    resolved = require.resolve(target);
  } catch (err) {
    throw new LoadError(`handler file '${handler}' not found in the function source `
      + `(looked for ${relativeInside(fdir, target) || target})`);
  }
  let exported;
  try {
    exported = require(resolved);
  } catch (err) {
    throw describeLoadFailure(err, fdir, handler);
  }
  const file = relativeInside(fdir, resolved) || resolved;
  if (typeof exported === 'function') return exported;
  if (exported && typeof exported.handle === 'function') return exported.handle.bind(exported);
  let what = `a value of type ${typeof exported}`;
  if (exported && typeof exported === 'object') {
    const keys = Object.keys(exported);
    what = keys.length === 0 ? 'nothing (did you forget module.exports = …?)'
      : `an object without a handle function (it has: ${keys.slice(0, 10).join(', ')})`;
  }
  throw new LoadError(`${file} must export the handler: module.exports = function (context, payload) {…} `
    + `or an object with a handle(context, payload) method; it exports ${what}`, { file });
}

function errorObject(err) {
  const isError = err instanceof Error || (err !== null && typeof err === 'object' && 'message' in err);
  const name = isError ? err.name : undefined;
  let message = isError ? String(err.message || name || 'Error') : String(err);
  if (!message) message = 'Error';
  return {
    type: err instanceof TypeError || name === 'TypeError' ? 'InputError' : 'FunctionError',
    message,
    stacktrace: isError ? userStack(err.stack) : [],
  };
}

function writeFrame(text) {
  const size = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(4 + size);
  frame.writeUInt32BE(size, 0);
  frame.write(text, 4);
  let off = 0;
  while (off < frame.length) {
    try {
      off += fs.writeSync(REP_FD, frame, off, frame.length - off);
    } catch (err) {
      // A non-blocking reply pipe that is full: wait for the server to drain it.
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function finish(inv, result, err) {
  if (inv !== current) return; // a late settlement of an invocation that already failed
  const durationNs = Number(process.hrtime.bigint() - inv.start);
  current = null;
  let error = err === undefined ? null : errorObject(err);
  let payload = 'null';
  if (error === null) {
    try {
      payload = JSON.stringify(result) ?? 'null'; // undefined, functions and symbols become null
    } catch (e) {
      error = { type: 'FunctionError', message: `return value is not JSON serializable: ${e.message}`, stacktrace: [] };
    }
  }
  writeFrame(fittedResult(JSON.stringify(inv.id) ?? 'null', payload, error, captured.stdout.take(),
    captured.stderr.take(), durationNs));
}

function resultText(idJson, payloadJson, error, stdout, stderr, durationNs) {
  const logs = stdout.length || stderr.length ? JSON.stringify({ stdout, stderr }) : '{"stdout":[],"stderr":[]}';
  return `{"type":"result","id":${idJson},"payload":${payloadJson},`
    + `"error":${error === null ? 'null' : JSON.stringify(error)},"logs":${logs},"durationNs":${durationNs}}`;
}

// A reply over the frame limit becomes a FunctionError rather than a protocol error.
function fittedResult(idJson, payloadJson, error, stdout, stderr, durationNs) {
  let text = resultText(idJson, payloadJson, error, stdout, stderr, durationNs);
  const size = Buffer.byteLength(text);
  if (size <= MAX_FRAME) return text;
  const tooLarge = { type: 'FunctionError', stacktrace: [],
    message: `the reply would be ${size} bytes of JSON, more than the ${MAX_FRAME} a reply may carry; return less data` };
  text = resultText(idJson, 'null', tooLarge, stdout, stderr, durationNs);
  if (Buffer.byteLength(text) <= MAX_FRAME) return text;
  return resultText(idJson, 'null', tooLarge, [], ['[truncated: the logs did not fit into one reply]'], durationNs);
}

// For invocations that end asynchronously: the next request may already be waiting.
function finishLater(inv, result, err) {
  finish(inv, result, err);
  pump();
}

function invoke(fn, req) {
  const inv = { id: req.id, start: 0n };
  current = inv;
  inv.start = process.hrtime.bigint();
  let result;
  try {
    result = fn(req.context, req.payload);
  } catch (err) {
    finish(inv, undefined, err === undefined ? new Error('undefined was thrown') : err);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    result.then((value) => finishLater(inv, value),
      (err) => finishLater(inv, undefined, err === undefined ? new Error('promise rejected with undefined') : err));
  } else {
    finish(inv, result);
  }
}

const queue = [];
let handlerFn = null;
let inputEnded = false;

function pump() {
  while (current === null && queue.length) {
    const body = queue.shift();
    let req;
    try {
      req = JSON.parse(body);
    } catch (err) {
      writeFrame(JSON.stringify({ type: 'result', id: null, payload: null, logs: { stdout: [], stderr: [] },
        durationNs: 0, error: { type: 'SystemError', message: `invalid request: ${err.message}`, stacktrace: [] } }));
      continue;
    }
    if (req && req.type === 'invoke') invoke(handlerFn, req); // other frame types are reserved
  }
  if (current === null && inputEnded) exitWorker(0);
}

function readFrames(onFrame, onEnd) {
  let input;
  try {
    input = new net.Socket({ fd: REQ_FD, readable: true, writable: false });
  } catch (err) {
    input = fs.createReadStream(null, { fd: REQ_FD }); // fd 3 is a file (manual testing), not a pipe
  }
  let chunks = [];
  let buffered = 0;
  let need = 4;
  let haveHeader = false;
  input.on('data', (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= need) {
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
      if (!haveHeader) {
        const size = buf.readUInt32BE(0);
        if (size > MAX_FRAME) {
          process.stderr.write(`dispatch worker: request frame of ${size} bytes exceeds the protocol limit\n`);
          exitWorker(2);
        }
        haveHeader = true;
        need = 4 + size;
        chunks = [buf];
        continue;
      }
      onFrame(buf.subarray(4, need));
      const rest = buf.subarray(need);
      chunks = rest.length ? [rest] : [];
      buffered = rest.length;
      need = 4;
      haveHeader = false;
    }
  });
  input.on('end', onEnd);
  input.on('error', (err) => {
    process.stderr.write(`dispatch worker: cannot read requests: ${err.message}\n`);
    exitWorker(2);
  });
}

function main() {
  const fdir = path.resolve(process.env.DISPATCH_FUNCTION_DIR || process.cwd());
  const handler = process.env.DISPATCH_HANDLER || '';
  interceptWrites(process.stdout, captured.stdout);
  interceptWrites(process.stderr, captured.stderr);

  try {
    handlerFn = loadHandler(fdir, handler);
  } catch (err) {
    const e = err instanceof LoadError ? err : new LoadError(`cannot load handler '${handler}': ${err}`);
    const frame = { type: 'error', error: { type: 'FunctionError', message: e.message, stacktrace: e.stacktrace } };
    if (e.file) frame.file = e.file;
    if (e.line) frame.line = e.line;
    writeFrame(JSON.stringify(frame));
    exitWorker(1);
  }

  // Like a python handler's sys.exit(), process.exit() in a handler fails the invocation instead of the worker.
  process.exit = function exit(code) {
    if (current === null) exitWorker(code);
    throw new Error(`handler called process.exit(${code === undefined ? '' : code})`);
  };

  // Errors thrown from callbacks the handler scheduled (timers, emitters, unawaited promises) fail the invocation
  // in flight instead of killing the warm worker; between invocations they only go to the worker log.
  process.on('uncaughtException', (err) => {
    if (current !== null) finishLater(current, undefined, err);
    else process.stderr.write(`dispatch worker: uncaught exception outside an invocation: ${(err && err.stack) || err}\n`);
  });

  writeFrame(JSON.stringify({ type: 'ready', runtime: 'nodejs', version: process.versions.node }));
  readFrames((body) => {
    queue.push(body);
    pump();
  }, () => {
    inputEnded = true;
    pump();
  });
}

main();
