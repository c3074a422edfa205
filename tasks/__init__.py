"""The workload: a mock project-management platform with 120 tools, and the task suite."""
