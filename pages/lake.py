import streamlit as st

st.title("Lake")
st.info("This page will browse the lake's objects and the Glue catalog, preview files and ingest a file as a table.")
