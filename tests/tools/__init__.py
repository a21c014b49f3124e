"""Tools beside the tests: measurements and checks of the code itself."""
