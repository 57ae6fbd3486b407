"""The reliability suite: bad input, kills, full disks, broken servers, hostile documents and
uploads. Each case asserts that nothing is lost, nothing leaks, and the user reads one clear line."""
