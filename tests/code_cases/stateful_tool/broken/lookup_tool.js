// a tool class that keeps its call's input on `this`
class LookupTool {
  async call(input) {
    this.lastCustomer = input.customerId; // expect: code.stateful_tool
    return fetchCustomer(this.lastCustomer);
  }
}
module.exports = { LookupTool };
