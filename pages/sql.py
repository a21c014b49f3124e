import streamlit as st

st.title("SQL")
st.info("This page will be an Athena SQL workbench: editor, results, charts and shareable links.")
