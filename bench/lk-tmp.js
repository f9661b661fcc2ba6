const { createEnforcer, silentLogger } = require('@ase/core');
const { fillDenyList, realisticPolicy, requests } = require('/work/main/bench/core');
const n = Number(process.argv[2]);
const e = createEnforcer({ logger: silentLogger, conf: { attack_list_memory: '2GB' }, apis: realisticPolicy() });
fillDenyList(e, n);
const reqs = requests(4096);
for (let i = 0; i < 100000; i++) e.decide(reqs[i & 4095]);
for (let r = 0; r < 5; r++) {
const t0 = performance.now();
for (let i = 0; i < 300000; i++) e.decide(reqs[i & 4095]);
console.log(n, ((performance.now() - t0) * 1000) / 300000);
}
