"""The pytest marker's options get the config file's checks: a misspelt vendor, option or
field, or a value of the wrong type, is a usage error that names it (with a did-you-mean)."""
from __future__ import annotations

import pytest

from mockserver.providers import provider_classes

pytest_plugins = ["pytester"]
provider_classes()  # import the providers out here (see test_pytest_plugin.py)

CASES = {
    "vendors={'dashcope': {'run_seconds': 5}}":
        "*vendors.dashcope is not a vendor (did you mean dashscope?)*",
    "vendors={'dashscope': {'run_secs': 5}}": "*has no option 'run_secs' (did you mean run_seconds?)*",
    "vendors={'dashscope': {'run_seconds': 'five'}}":
        "*vendors.dashscope.run_seconds = \"five\": must be a finite number*",
    "time_scale=0": "*time_scale = 0: must be a finite number greater than 0*",
    "strict_auht=True": "*unknown option(s) strict_auht (did you mean strict_auth?)*",
}


@pytest.mark.parametrize("fixture", ["portrait_mock", "portrait_mock_inprocess"])
@pytest.mark.parametrize("options", CASES)
def test_a_bad_marker_option_is_a_usage_error_naming_it(pytester: pytest.Pytester,
                                                        options: str, fixture: str) -> None:
    pytester.makepyfile(test_user=f'''
import pytest

@pytest.mark.portrait_mock({options})
def test_marked({fixture}):
    pass
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.portrait_mock: {CASES[options]}"])
    assert "Traceback" not in result.stdout.str()
