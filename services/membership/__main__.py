"""``python -m services.membership [run|provision]``"""

import sys

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from shared.runtime import main

sys.exit(main(build_app, MembershipSettings))
