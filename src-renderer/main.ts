import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { useLoadingStore } from './stores/loading';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
app.mount('#app');
void useLoadingStore;
