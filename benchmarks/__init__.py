"""The benchmark suite: inputs and goals (inputs.py), reports (report.py), tests."""
