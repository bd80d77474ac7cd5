// seed 002 FIXED: throttle concurrency
const pLimit = require("p-limit");
const limit = pLimit(5);
async function processItem(item) {
  return buildCrew(item).kickoff();
}
async function processAll(items) {
  return Promise.all(items.map(item => limit(() => processItem(item))));
}
module.exports = { processAll };
