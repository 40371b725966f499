"""Glossary: the dashboard's words in plain English, with the technical terms beside them."""

import streamlit as st

from ui.glossary import render_glossary

st.title("Glossary")
st.markdown("What the dashboard's labels mean, with the technical term an analyst or a paper "
            "would use. The sidebar uses the plain words; each control's help (the ⓘ) gives "
            "the technical term too. Methods and their references are in `docs/methods.md`.")
render_glossary(key="glossary")
