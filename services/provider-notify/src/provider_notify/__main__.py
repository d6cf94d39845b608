"""`python -m provider_notify`: run the service until SIGTERM."""

from servicekit.service import run_service

from provider_notify.bootstrap import bootstrap

if __name__ == "__main__":
    run_service("provider-notify", bootstrap)
