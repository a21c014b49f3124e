import streamlit as st

st.title("Sentiment")
st.info("This page will show sentiment per category, review lengths and pre-training bias for any review table.")
