assistant_configs = {
    "AgentSowWriter": {
        "tools": [query_sow],
        "model_context": BufferedChatCompletionContext(buffer_size=25),  # Single shared instance!
        "reflect_on_tool_use": True,
        "system_message": "",
    },
    # Other configs...
}
