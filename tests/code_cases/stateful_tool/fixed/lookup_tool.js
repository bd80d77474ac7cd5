// FIXED: the tool keeps nothing of its call; config set once in the constructor
class LookupTool {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }
  async call(input) {
    return fetchCustomer(this.baseUrl, input.customerId);
  }
}
module.exports = { LookupTool };
