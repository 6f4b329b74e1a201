"""The plsim command, one module per command or group of commands, each with its `add_parsers(sub)`;
`commands.args` holds what they share. plsim.cli assembles them (and plsim evidence) and runs one.
Nothing is imported here, so `commands.args` imports nothing but itself."""
