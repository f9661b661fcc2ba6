import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Enforcer } from '../../src/enforcer';
import { guardUpgrades, upgradePassed } from '../../src/http/upgrade-listener';

/** The gate's dispatch only: an enforcer whose decision is given, counting how often it is asked. */
function stubEnforcer(handled: boolean): Enforcer & { asked: number } {
  const e = {
    asked: 0,
    handleUpgrade(): Promise<boolean> {
      e.asked++;
      return Promise.resolve(handled);
    },
  };
  return e as unknown as Enforcer & { asked: number };
}

const upgradeReq = (): IncomingMessage => ({ url: '/x', headers: { upgrade: 'websocket' } }) as unknown as IncomingMessage;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('guardUpgrades', () => {
  test('hands a passed upgrade to listeners attached before and after the guard, once, after the decision', async () => {
    const server = new EventEmitter();
    const enforcer = stubEnforcer(false);
    const seen: string[] = [];
    server.on('upgrade', () => seen.push('before'));
    guardUpgrades(server, enforcer);
    server.on('upgrade', () => seen.push('after'));
    const req = upgradeReq();
    server.emit('upgrade', req, new PassThrough(), Buffer.alloc(0));
    expect(seen).toEqual([]); // nothing runs while the decision is pending
    await tick();
    expect({ seen, asked: enforcer.asked, passed: upgradePassed(enforcer, req) }).toEqual({ seen: ['before', 'after'], asked: 1, passed: true });
  });

  test('never hands a handled (refused or tunnelled) upgrade to the listeners', async () => {
    const server = new EventEmitter();
    const enforcer = stubEnforcer(true);
    let seen = 0;
    server.on('upgrade', () => seen++);
    guardUpgrades(server, enforcer);
    const req = upgradeReq();
    server.emit('upgrade', req, new PassThrough(), Buffer.alloc(0));
    await tick();
    expect({ seen, passed: upgradePassed(enforcer, req) }).toEqual({ seen: 0, passed: false });
  });

  test('guarding twice with one enforcer decides once', async () => {
    const server = new EventEmitter();
    const enforcer = stubEnforcer(false);
    let seen = 0;
    server.on('upgrade', () => seen++);
    guardUpgrades(server, enforcer);
    guardUpgrades(server, enforcer);
    server.emit('upgrade', upgradeReq(), new PassThrough(), Buffer.alloc(0));
    await tick();
    expect({ seen, asked: enforcer.asked }).toEqual({ seen: 1, asked: 1 });
  });

  test('answers 404 when the decision passes and the app has no upgrade listener', async () => {
    const server = new EventEmitter();
    guardUpgrades(server, stubEnforcer(false));
    const socket = new PassThrough();
    const written: Buffer[] = [];
    socket.on('data', (c: Buffer) => written.push(c));
    server.emit('upgrade', upgradeReq(), socket, Buffer.alloc(0));
    await tick();
    expect(Buffer.concat(written).toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    socket.destroy();
  });

  test('leaves other events alone, and the returned function removes the gate', async () => {
    const server = new EventEmitter();
    const enforcer = stubEnforcer(true);
    const unguard = guardUpgrades(server, enforcer);
    let requests = 0;
    server.on('request', () => requests++);
    expect(server.emit('request')).toBe(true);
    expect(server.emit('close')).toBe(false);
    expect(requests).toBe(1);
    expect(server.listenerCount('upgrade')).toBe(1); // keeps Node treating upgrades as upgrades
    unguard();
    expect(server.listenerCount('upgrade')).toBe(0);
    let seen = 0;
    server.on('upgrade', () => seen++);
    server.emit('upgrade', upgradeReq(), new PassThrough(), Buffer.alloc(0));
    expect({ seen, asked: enforcer.asked }).toEqual({ seen: 1, asked: 0 });
  });
});
