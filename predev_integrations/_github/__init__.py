"""What GitHub Actions defines: workflow-command escaping, step summary, inputs."""
