// seed 002 (CrewAI TS): crew.kickoff() wrapped in Promise.all over the request's items
async function processItem(item) {
  const crew = buildCrew(item);
  return crew.kickoff();
}
async function processAll(items) {
  const jobs = items.map(item => processItem(item));
  return Promise.all(jobs); // expect: code.unbounded_fanout
}
module.exports = { processAll };
