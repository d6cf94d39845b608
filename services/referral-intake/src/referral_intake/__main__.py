"""`python -m referral_intake`: run the service until SIGTERM."""

from referral_intake.bootstrap import bootstrap

if __name__ == "__main__":
    bootstrap().run()
