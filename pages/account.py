"""Account: login, roles, API keys, preferences and usage."""

import streamlit as st


def main() -> None:
    st.title("Account")
    st.info(
        "Coming here: your profile and password, API keys, preferences and usage; administrators "
        "manage users and read the audit log.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
