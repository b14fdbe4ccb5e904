"""Stopping the service processes a test or a bench started: SIGTERM to all first (they stop side
by side, each draining its work), then wait for each, and SIGKILL one that overstays `timeout`."""
import subprocess


def stop_processes(procs, timeout=30):
    running = [proc for proc in procs if proc.poll() is None]
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
