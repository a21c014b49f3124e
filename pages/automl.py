import streamlit as st

st.title("AutoML")
st.info("This page will train and compare sentiment classifiers locally and read SageMaker Autopilot jobs.")
