// a lazily built module-level singleton, handed to every request by a getter
const { OpenAIChatCompletionClient } = require("@autogen/openai");
let client = null;
function getClient() {
  if (!client) {
    client = new OpenAIChatCompletionClient({ model: "gpt-4o-mini" }); // expect: code.shared_instance
  }
  return client;
}
router.get("/chat", async (req, res) => {
  const c = getClient();
  res.json(await c.create([{ role: "user", content: req.query.q }]));
});
